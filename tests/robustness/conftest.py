"""Shared helpers of the hostile-input tests: one collect-and-load cycle of a source (what its
ingest asset does, without Dagster), and the checks every fault class ends with."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from catalog.tables import LakeTables
from ingest.bronze import LoadReport, load
from ingest.inbox import CollectReport, collect
from ingest.ledger import IngestLedger, PeriodRange
from tests.robustness.builders import SOURCE

MONTHS = PeriodRange("2024-01", "2026-12")


@dataclass
class Cycle:
    collected: CollectReport
    loaded: LoadReport

    @property
    def rejected(self) -> list[str]:
        """Every reason this cycle gave for a rejected file (collect, land and load)."""
        return [*self.collected.rejected.values(), *self.loaded.failed.values()]


def cycle(tables: LakeTables, source: str = SOURCE, accept_shrink: bool = False) -> Cycle:
    collected = collect(tables, source, MONTHS)
    return Cycle(collected, load(tables, source, None, partitions=MONTHS, accept_shrink=accept_shrink))


def assert_reconciled(tables: LakeTables, source: str = SOURCE) -> None:
    """Per loaded batch: rows read = bronze + quarantine + skipped, and the tables hold them."""
    bronze = tables.read("bronze", source)
    quarantine = tables.read("quarantine", f"bronze_{source}")
    for e in IngestLedger(tables).entries(source=source, status="loaded"):
        assert e["rows_read"] == e["rows_bronze"] + e["rows_quarantined"] + e["rows_skipped"], e
        assert bronze.filter(bronze._batch_id == e["batch_id"]).count() == e["rows_bronze"], e
        assert quarantine.filter(quarantine._batch_id == e["batch_id"]).count() == e["rows_quarantined"], e


def assert_next_run_clean(tables: LakeTables, source: str = SOURCE) -> None:
    """Nothing new to land, nothing rejected, nothing pending, no landed file without a ledger
    row and no ledger row pointing at a missing file."""
    again = cycle(tables, source)
    assert (again.collected.landed, again.rejected, again.loaded.loaded) == ([], [], [])
    entries = IngestLedger(tables).entries(source=source)
    assert [e["batch_id"] for e in entries if e["status"] == "pending"] == []
    lake = tables.lake
    listed = {e["landing_path"] for e in entries}
    assert all(lake.exists(path) for path in listed)
    assert set(lake.list_files(lake.uri("landing", source))) <= listed
    assert lake.list_files(lake.uri("landing", "_inbox", source)) == []


@pytest.fixture
def lake(tmp_lake: LakeTables) -> LakeTables:
    return tmp_lake
