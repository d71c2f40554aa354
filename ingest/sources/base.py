"""A source system, configured entirely by its bronze contract's ``ingest`` block."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property

from catalog import Contract, get_contract
from ingest.parsers.json_records import parse_json_document, parse_jsonl
from ingest.parsers.tabular import parse_tabular
from ingest.records import ParsedFile


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
        return re.compile(self.spec.file_pattern)

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
        """Whether ``period`` is a partition key of this source's grain."""
        try:
            if self.spec.grain == "month":
                return len(period) == 7 and dt.date.fromisoformat(f"{period}-01") is not None
            return len(period) == 10 and dt.date.fromisoformat(period) is not None
        except ValueError:
            return False

    def parse(self, data: bytes, label: str) -> ParsedFile:
        if self.spec.format == "tabular":
            return parse_tabular(data, self.fields, label, self.spec.encodings)
        if self.spec.format == "jsonl":
            return parse_jsonl(data, self.fields, label)
        return parse_json_document(data, self.fields, self.spec.records_key, label)
