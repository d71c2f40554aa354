"""The interface every source system implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from catalog import Contract, get_contract
from ingest.records import ParsedFile


class Source(ABC):
    name: str

    @property
    def bronze_contract(self) -> Contract:
        return get_contract("bronze", self.name)

    @property
    def quarantine_contract(self) -> Contract:
        return get_contract("quarantine", f"bronze_{self.name}")

    @property
    def data_columns(self) -> list[str]:
        """Columns that carry the source's values (mapped from its headers), in contract order."""
        return [c.name for c in self.bronze_contract.columns if c.source_header]

    @abstractmethod
    def identify(self, file_name: str) -> tuple[str | None, str | None]:
        """(reporting unit, period YYYY-MM) of a delivery, from its file name."""

    @abstractmethod
    def parse(self, data: bytes, label: str) -> ParsedFile:
        """Sort a file's lines into records (column -> text as received), rejects and skips.

        Raises :class:`ingest.records.SourceFileError` when the file as a whole is unreadable.
        """
