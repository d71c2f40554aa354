"""Injected defects: their rates (documented, configurable) and the manifest of what was injected.

Row-level defects are mutually exclusive: a row carries at most one, drawn from the rates that
apply to its source, so tests can reconcile each defect with the rule that must catch it. The
manifest is written from what the simulator did, never derived from the project's validators.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ibrain.uscc import ALPHABET
from simulators.population import industry_codes, region_names

# Codes abolished in Liaoning (gbt2260_liaoning_changes.csv): used after their change date.
ABOLISHED_REGIONS = ("210282", "210122", "211121")
FULL_WIDTH = str.maketrans(
    "0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９．ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)


@dataclass(frozen=True)
class Defects:
    """Rates per data row (or per file / per API response where the name says so)."""

    invalid_uscc: float = 0.02  # last character changed: the GB 32100 check digit fails
    messy_text: float = 0.03  # USCC in lower case / with spaces / full width (fixable)
    exact_duplicate: float = 0.005  # the row is delivered twice, identically
    near_duplicate: float = 0.005  # the row again with a variant enterprise name
    missing_required: float = 0.005  # a required field (USCC or name) left blank
    unknown_region: float = 0.003  # region code not in GB/T 2260
    abolished_region: float = 0.003  # a county code abolished before the period
    unknown_industry: float = 0.003  # industry code not in GB/T 4754
    unit_mixup: float = 0.003  # an amount reported in 元 in a 万元 column (×10,000)
    out_of_range: float = 0.003  # negative output / amount / volume, load above 100 %
    missing_field: float = 0.003  # a field dropped: the line is one field short
    thousands_separator: float = 0.05  # "12,345.60" (formatting, fine after standardising)
    full_width_digits: float = 0.01  # "１２３４５" (formatting, fine after standardising)
    late_file: float = 0.1  # share of files delivered after their deadline
    corrupt_file: float = 0.01  # share of files that cannot be read at all
    gbk_share: float = 0.3  # share of CSV senders using GBK instead of UTF-8 with BOM
    xlsx_share: float = 0.2  # share of city statistics files delivered as XLSX
    telemetry_duplicate: float = 0.002  # a reading sent twice
    telemetry_clock_skew: float = 0.01  # a reading stamped a few seconds to minutes off
    api_error_rate: float = 0.2  # share of registry API responses that are 429 or 503

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


ROW_DEFECTS = ("invalid_uscc", "messy_text", "exact_duplicate", "near_duplicate", "missing_required",
               "unknown_region", "abolished_region", "unknown_industry", "unit_mixup", "out_of_range",
               "missing_field")  # fmt: skip


def pick_row_defect(rng: random.Random, defects: Defects, applicable: tuple[str, ...]) -> str | None:
    """At most one row-level defect for a row, by the rates of the kinds that apply to it."""
    roll = rng.random()
    for kind in applicable:
        rate = getattr(defects, kind)
        if roll < rate:
            return kind
        roll -= rate
    return None


def break_uscc(rng: random.Random, code: str) -> str:
    return code[:-1] + rng.choice([c for c in ALPHABET if c != code[-1]])


def messy(rng: random.Random, code: str) -> str:
    style = rng.randrange(3)
    if style == 0:
        return code.lower()
    if style == 1:
        return f" {code[:8]} {code[8:]} "
    return code.translate(FULL_WIDTH)


def unknown_region() -> str:
    code = "219999"
    assert code not in region_names()
    return code


def unknown_industry(rng: random.Random) -> str:
    while True:
        code = f"{rng.randrange(10, 100)}{rng.randrange(0, 100):02d}"
        if code not in industry_codes():
            return code


def amount_text(rng: random.Random, value: float, defects: Defects) -> str:
    """An amount as a bureau writes it: usually plain, sometimes with separators or full width."""
    roll = rng.random()
    if roll < defects.thousands_separator:
        return f"{value:,.2f}"
    if roll < defects.thousands_separator + defects.full_width_digits:
        return f"{value:.2f}".translate(FULL_WIDTH)
    return f"{value:.2f}"


@dataclass
class DefectLog:
    """What the simulator injected, where: the manifest tests reconcile against."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        source: str,
        kind: str,
        file: str | None = None,
        row: int | None = None,
        key: str | None = None,
        count: int | None = None,
    ) -> None:
        """One injected defect (``row`` as the parser counts it), or ``count`` of them in a file."""
        entry = {"source": source, "kind": kind, "file": file, "row": row, "key": key, "count": count}
        self.entries.append({k: v for k, v in entry.items() if v is not None})

    def counts(self) -> dict[str, dict[str, int]]:
        by_source: dict[str, Counter] = {}
        for e in self.entries:
            by_source.setdefault(e["source"], Counter())[e["kind"]] += e.get("count", 1)
        return {s: dict(sorted(c.items())) for s, c in sorted(by_source.items())}

    def as_manifest(self, defects: Defects) -> dict[str, Any]:
        return {"rates": asdict(defects), "counts": self.counts(), "entries": self.entries}
