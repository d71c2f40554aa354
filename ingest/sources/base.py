r"""A source system, configured entirely by its bronze contract's ``ingest`` block.

Periods (docs/architecture.md: the data's path, landing and the ledger). A period is the Dagster
partition key and is spelled in exactly one way per grain: ``YYYY-MM`` (monthly sources) or
``YYYY-MM-DD`` (daily sources), ASCII digits, a real calendar month or day. File names carry it in
the spellings of the contracts' ``file_pattern`` (matched with ASCII-only ``\d``): ``YYYYMM`` or
``YYYY-MM`` (gov_stats_monthly), ``YYYYMM`` (the other monthly sources), ``YYYYMMDD`` (gov_registry,
ent_telemetry). Nothing else is a period: no ISO week (``2024-W01-1``) or ordinal date
(``2024-001``), no compact form where a dashed one is expected, no full-width or other non-ASCII
digits.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property

from catalog import Contract, get_contract
from ingest.parsers.json_records import parse_json_document, parse_jsonl
from ingest.parsers.tabular import parse_tabular
from ingest.records import ParsedFile

_PERIOD_RE = {
    "month": re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII),
    "day": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII),
}


def is_period_of_grain(period: str, grain: str) -> bool:
    """Whether ``period`` is spelled exactly ``YYYY-MM`` (month) or ``YYYY-MM-DD`` (day) and names
    a real month or day (see the module docstring for why nothing else is accepted)."""
    if not isinstance(period, str) or not _PERIOD_RE[grain].fullmatch(period):
        return False
    try:
        dt.date(int(period[:4]), int(period[5:7]), int(period[8:10]) if grain == "day" else 1)
    except ValueError:
        return False
    return True


class Source:
    def __init__(self, contract: Contract) -> None:
        if contract.ingest is None:
            raise ValueError(f"{contract.name} has no ingest block")
        self.contract = contract
        self.spec = contract.ingest
        self.name = contract.table

    @property
    def bronze_contract(self) -> Contract:
        return self.contract

    @cached_property
    def quarantine_contract(self) -> Contract:
        return get_contract("quarantine", f"bronze_{self.name}")

    @cached_property
    def fields(self) -> dict[str, str]:
        """Source field (header or JSON key) -> contract column."""
        return self.contract.source_headers

    @property
    def data_columns(self) -> list[str]:
        """Columns that carry the source's values, in contract order."""
        return [c.name for c in self.contract.columns if c.source_header]

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(self.spec.file_pattern, re.ASCII)  # \d: ASCII digits only

    def identify(self, file_name: str) -> tuple[str | None, str | None]:
        """(reporting unit, period) of a delivery from its file name; (None, None) if unknown.

        The period is the Dagster partition key: ``YYYY-MM`` (monthly) or ``YYYY-MM-DD`` (daily).
        """
        match = self._pattern.search(file_name)
        if not match:
            return None, None
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        try:
            year, month = int(groups["year"]), int(groups["month"])
            if self.spec.grain == "month":
                dt.date(year, month, 1)
                period = f"{year:04d}-{month:02d}"
            else:
                period = dt.date(year, month, int(groups["day"])).isoformat()
        except (KeyError, ValueError):
            return None, None
        unit = groups.get("unit") or (self.spec.unit.format(**groups) if self.spec.unit else None)
        return unit, period

    def current_period(self) -> str:
        """The period (partition key) of today in China Standard Time."""
        today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date().isoformat()
        return today[:7] if self.spec.grain == "month" else today

    def is_period(self, period: str) -> bool:
        """Whether ``period`` is a partition key of this source's grain (strict: see the module
        docstring; ``date.fromisoformat`` would also take ISO week dates)."""
        return is_period_of_grain(period, self.spec.grain)

    @property
    def period_spelling(self) -> str:
        return "YYYY-MM" if self.spec.grain == "month" else "YYYY-MM-DD"

    def parse(self, data: bytes, label: str) -> ParsedFile:
        if self.spec.format == "tabular":
            return parse_tabular(data, self.fields, label, self.spec.encodings)
        if self.spec.format == "jsonl":
            return parse_jsonl(data, self.fields, label)
        return parse_json_document(data, self.fields, self.spec.records_key, label)
