"""Resource limits on one delivered file, so that no file can stall a load or exhaust memory.

Each limit is an environment variable (README, configuration). A file over a limit is rejected on
its own (:class:`LimitExceeded`, a :class:`~ingest.records.SourceFileError`) with a message naming
the file, the limit, the value observed and the variable that raises it. Checks run before the
expensive step they guard (the file size before parsing, the XLSX zip directory before openpyxl
opens it) and every parser stays linear in the input size.

Defaults fit real deliveries with a wide margin: the largest demo delivery is a 0.5 MB hourly
telemetry file, a province's monthly statistics report (~10 k enterprises) is a few MB, and
the widest contract maps 15 fields.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from ibrain.settings import SettingsError
from ingest.records import SourceFileError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

ORJSON_MAX_DEPTH = 1024  # orjson refuses deeper documents by itself ("depth limit exceeded")

# field name -> (variable, default, unit, why the default)
_SPEC: dict[str, tuple[str, int, str, str]] = {
    "max_file_bytes": (
        "IBRAIN_MAX_FILE_BYTES",
        256 * MIB,
        "bytes",
        "500x the largest demo delivery; a parse holds the file and its records in memory",
    ),
    "max_xlsx_expanded_bytes": (
        "IBRAIN_MAX_XLSX_EXPANDED_BYTES",
        256 * MIB,
        "bytes",
        "~6 M cells of sheet XML, 30x a province's monthly report; openpyxl reads ~10 MB/s",
    ),
    "max_xlsx_sheets": ("IBRAIN_MAX_XLSX_SHEETS", 64, "sheets", "deliveries have 1-10 sheets"),
    "max_xlsx_parts": (
        "IBRAIN_MAX_XLSX_PARTS",
        2000,
        "zip members",
        "a 64-sheet workbook with drawings has a few hundred parts",
    ),
    "max_columns": ("IBRAIN_MAX_COLUMNS", 1000, "columns", "the widest contract maps 15 fields"),
    "max_field_chars": (
        "IBRAIN_MAX_FIELD_CHARS",
        32767,
        "characters",
        "Excel's cell limit: no field exported from a spreadsheet is longer",
    ),
    "max_line_length": (
        "IBRAIN_MAX_LINE_LENGTH",
        1 * MIB,
        "characters (CSV) or bytes (JSON Lines)",
        "1,000 columns of 1 KB; real lines are under 2 KB",
    ),
    "max_json_depth": ("IBRAIN_MAX_JSON_DEPTH", 64, "levels", "records nest 3-5 levels"),
}

_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]i?B?)?\s*$", re.IGNORECASE)
_FACTOR = {"": 1, "K": KIB, "M": MIB, "G": GIB}


class LimitExceeded(SourceFileError):
    """A file over a configured limit; ``variable`` is the environment variable that raises it."""

    def __init__(self, label: str, what: str, observed: str | int, limit: int, variable: str) -> None:
        self.variable = variable
        self.limit = limit
        shown = f"{observed:,}" if isinstance(observed, int) else observed
        super().__init__(
            f"{label}: {what} {shown} exceeds the limit of {limit:,} (set {variable} to change the limit)"
        )


def parse_count(name: str, raw: str) -> int:
    """A positive count, bytes may carry a K/M/G suffix (binary: 1K = 1024)."""
    match = _SIZE.match(raw)
    if not match:
        raise SettingsError(f"{name} must be a positive whole number (K/M/G suffix allowed), not {raw!r}")
    value = int(match.group(1)) * _FACTOR[(match.group(2) or "")[:1].upper()]
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {raw!r}")
    return value


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = _SPEC["max_file_bytes"][1]
    max_xlsx_expanded_bytes: int = _SPEC["max_xlsx_expanded_bytes"][1]
    max_xlsx_sheets: int = _SPEC["max_xlsx_sheets"][1]
    max_xlsx_parts: int = _SPEC["max_xlsx_parts"][1]
    max_columns: int = _SPEC["max_columns"][1]
    max_field_chars: int = _SPEC["max_field_chars"][1]
    max_line_length: int = _SPEC["max_line_length"][1]
    max_json_depth: int = _SPEC["max_json_depth"][1]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits as the environment sets them now (blank counts as unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for f in fields(cls):
            variable = _SPEC[f.name][0]
            raw = (environ.get(variable) or "").strip()
            if raw:
                values[f.name] = parse_count(variable, raw)
        limits = cls(**values)
        if limits.max_json_depth > ORJSON_MAX_DEPTH:
            raise SettingsError(
                f"IBRAIN_MAX_JSON_DEPTH={limits.max_json_depth}: the JSON parser (orjson) stops at "
                f"{ORJSON_MAX_DEPTH} levels; choose at most {ORJSON_MAX_DEPTH}"
            )
        return limits

    def check(self, name: str, label: str, what: str, observed: int) -> None:
        """Raise :class:`LimitExceeded` if ``observed`` is over the limit ``name`` (a field name)."""
        limit = getattr(self, name)
        if observed > limit:
            raise LimitExceeded(label, what, observed, limit, variable(name))

    def check_file_size(self, size: int, label: str) -> None:
        """For callers that know a file's size before reading it (the inbox, the loader)."""
        self.check("max_file_bytes", label, "file size (bytes)", size)


def variable(name: str) -> str:
    """The environment variable of limit ``name`` (a :class:`Limits` field)."""
    return _SPEC[name][0]


def documented() -> list[tuple[str, int, str, str]]:
    """(variable, default, unit, why) per limit, for the README table and its test."""
    return [_SPEC[f.name] for f in fields(Limits)]
