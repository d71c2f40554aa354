"""What a parser hands to the bronze loader."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


class SourceFileError(ValueError):
    """A whole file cannot be read (encoding, corrupt workbook, missing header…); the message
    names the file and the cause."""


@dataclass(frozen=True)
class Record:
    row_number: int
    values: dict[str, str | None]  # contract column -> value as received (text)
    unmapped: dict[str, Any] | None = None  # fields the contract does not know (schema drift)


@dataclass(frozen=True)
class Reject:
    row_number: int
    rule_id: str
    reason: str
    raw: dict[str, Any] | list[str] | str


@dataclass
class ParsedFile:
    """One file's lines sorted into records, rejects and skipped lines.

    ``rows_read`` counts every line or record the file has (title, header, blank, totals and notes
    included), so ``rows_read == len(records) + len(rejects) + skipped`` always holds.
    """

    records: list[Record] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: int = 0
    rows_read: int = 0
    unmapped_fields: set[str] = field(default_factory=set)

    def check_counts(self, label: str) -> None:
        accounted = len(self.records) + len(self.rejects) + self.skipped
        if accounted != self.rows_read:
            raise AssertionError(
                f"{label}: {self.rows_read} rows read but {accounted} accounted for "
                f"({len(self.records)} records, {len(self.rejects)} rejected, {self.skipped} skipped)"
            )


def record_hash(values: list[str | None]) -> str:
    """SHA-256 of a row's data values only (not its lineage), so identical rows share it."""
    payload = "\x1f".join("\x00" if v is None else v for v in values)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False)
