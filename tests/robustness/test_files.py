"""One file, one fate; strict periods; credible corrections (issue 12, items 1-3), on a small
local lake with the real engine. Each fault: the bad file is rejected and named, the good files
of the same drop load, the counts reconcile and the next run is clean."""

from __future__ import annotations

import pytest

from catalog.tables import LakeTables
from ingest import bronze as bronze_module
from ingest.bronze import held_corrections
from ingest.ledger import IngestLedger, LandingError, land_files
from tests.robustness import builders as b
from tests.robustness.conftest import assert_next_run_clean, assert_reconciled, cycle

pytestmark = pytest.mark.integration

GOOD_NAME = b.file_name("210200")  # every drop below also holds this good 2-row file


def bronze_units(tables: LakeTables) -> dict[str, int]:
    rows = tables.read("bronze", b.SOURCE).groupBy("reporting_unit").count().collect()
    return {r.reporting_unit: r["count"] for r in rows}


def entry(tables: LakeTables, file_name: str) -> dict:
    [found] = [e for e in IngestLedger(tables).entries() if e["file_name"] == file_name]
    return found


FAULTS = {
    "csv field over the csv module's limit": b.oversize_field_report(),
    "damaged XLSX (cut in half)": b.damaged_xlsx(),
    "XLSX whose sheet XML is broken": b.xlsx_with_broken_sheet(),
    "neither UTF-8 nor GB18030": b.undecodable(),
    "zero bytes": b"",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_bad_file_is_rejected_alone(lake: LakeTables, fault: str) -> None:
    bad_name = b.file_name("210100", ext="xlsx" if "XLSX" in fault else "csv")
    b.drop(lake, bad_name, FAULTS[fault])
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    [reason] = run.rejected
    assert bad_name in reason  # named (the landed path ends with the name)
    bad = entry(lake, bad_name)
    assert bad["status"] == "failed" and bad["message"] == reason
    assert "/landing/_rejected/gov_stats_monthly/2024-03/" in bad["landing_path"]
    assert lake.lake.read_bytes(bad["landing_path"]) == FAULTS[fault]
    assert reason in lake.lake.read_bytes(bad["landing_path"] + ".reason.txt").decode()
    assert bronze_units(lake) == {"210200": 2}
    # files in = landed + rejected; rows of the good one: 2 + title, header, totals
    assert len(IngestLedger(lake).entries()) == 2
    assert (run.loaded.rows_read, run.loaded.rows_bronze, run.loaded.rows_skipped) == (5, 2, 3)
    assert_reconciled(lake)
    assert_next_run_clean(lake)


def test_any_exception_of_a_parser_rejects_only_its_file(
    lake: LakeTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.sources.base import Source

    real = Source.parse

    def parse(self, data: bytes, label: str):
        if "210100" in label:
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, data, label)

    monkeypatch.setattr(Source, "parse", parse)
    b.drop(lake, b.file_name("210100"), b.good_report(1))
    b.drop(lake, GOOD_NAME, b.good_report(2))
    [reason] = cycle(lake).rejected
    assert reason.startswith(f"{b.file_name('210100')} (") and "RecursionError" in reason
    assert bronze_units(lake) == {"210200": 2}
    monkeypatch.setattr(Source, "parse", real)
    assert_next_run_clean(lake)


def test_period_outside_the_partitions_is_rejected_alone(lake: LakeTables) -> None:
    old = b.file_name("210100", "199901")
    b.drop(lake, old, b.good_report(1, period="1999-01"))
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    assert run.collected.rejected == {
        old: f"{old}: period 1999-01 is outside the partitions (2024-01 to 2026-12; "
        "IBRAIN_PARTITIONS_START sets the first)"
    }
    assert entry(lake, old)["status"] == "failed"
    assert bronze_units(lake) == {"210200": 2}
    assert_next_run_clean(lake)


def test_a_pending_delivery_outside_the_partitions_is_rejected_by_the_load(
    lake: LakeTables, tmp_path
) -> None:
    """Landed without a range (an older version, ``land_files`` without one): the load rejects it."""
    path = tmp_path / b.file_name("210100", "199901")
    path.write_bytes(b.good_report(1, period="1999-01"))
    land_files(lake, {b.SOURCE: [path]})
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    [reason] = run.loaded.failed.values()
    assert reason.startswith(f"{path.name}: period 1999-01 is outside the partitions (2024-01 to 2026-12")
    assert bronze_units(lake) == {"210200": 2}
    assert_next_run_clean(lake)


def test_pre_run_check_sends_out_of_range_periods_to_a_run_instead_of_raising() -> None:
    from orchestration.jobs import ingest_run_requests
    from orchestration.partitions import monthly

    [request] = ingest_run_requests({b.SOURCE: ["1999-01"]})
    last = monthly.get_last_partition_key()
    assert request.tags["dagster/asset_partition_range_start"] == last
    assert request.tags["dagster/asset_partition_range_end"] == last


@pytest.mark.parametrize("period", ["2024-W01", "2024W01", "2024-3", "202403", "2024-13", "２０２４-０３"])
def test_only_yyyy_mm_is_a_monthly_period(lake: LakeTables, tmp_path, period: str) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b.good_report(1))
    with pytest.raises(LandingError, match=r"is not a month \(YYYY-MM\)"):
        land_files(lake, {b.SOURCE: [path]}, reporting_unit="210100", period=period)


def test_iso_week_dates_are_not_days() -> None:
    from ingest.sources import get_source

    telemetry = get_source("ent_telemetry")
    assert telemetry.is_period("2024-01-01")
    for wrong in ("2024-W01-1", "2024W011", "20240101", "2024-001", "2024-02-30", "2024-01-1 "):
        assert not telemetry.is_period(wrong), wrong
    # file names: ASCII digits only (\d would take full-width and Arabic-Indic digits)
    assert get_source(b.SOURCE).identify("gov_stats_monthly_210100_２０２４０３.csv") == (None, None)
    assert get_source(b.SOURCE).identify("gov_stats_monthly_210100_٢٠٢٤٠٣.csv") == (None, None)


# ------------------------------------------------------------------------------ corrections


def loaded_first(lake: LakeTables, rows: int = 4) -> str:
    b.drop(lake, b.file_name("210100"), b.good_report(rows))
    assert cycle(lake).loaded.rows_bronze == rows
    return entry(lake, b.file_name("210100"))["batch_id"]


def test_a_correction_with_no_readable_row_does_not_replace_good_data(lake: LakeTables) -> None:
    first = loaded_first(lake)
    b.drop(lake, "gov_stats_monthly_210100-202403.csv", b.all_bad_report(4))
    [reason] = cycle(lake).rejected
    assert reason == (
        f"gov_stats_monthly_210100-202403.csv: correction of 210100 2024-03 (batch "
        f"{entry(lake, 'gov_stats_monthly_210100-202403.csv')['batch_id']}) not credible: 0 of its 4 rows "
        f"accepted, below the contract's 50%; batch {first} stays loaded"
    )
    assert bronze_units(lake) == {"210100": 4}
    assert entry(lake, b.file_name("210100"))["status"] == "loaded"
    assert_reconciled(lake)
    assert_next_run_clean(lake)


def test_a_correction_below_the_accepted_share_is_rejected(lake: LakeTables) -> None:
    loaded_first(lake)
    b.drop(lake, "gov_stats_monthly_210100-202403.csv", b.mostly_bad_report(good=2, bad=3))  # 40 %
    [reason] = cycle(lake).rejected
    assert "not credible: 2 of its 5 rows accepted" in reason
    assert bronze_units(lake) == {"210100": 4}
    assert_next_run_clean(lake)


def test_a_credible_correction_replaces(lake: LakeTables) -> None:
    loaded_first(lake)
    b.drop(lake, "gov_stats_monthly_210100-202403.csv", b.mostly_bad_report(good=3, bad=1))  # 75 %, -25 %
    run = cycle(lake)
    assert (run.rejected, run.loaded.held, run.loaded.rows_bronze, run.loaded.rows_quarantined) == (
        [],
        {},
        3,
        1,
    )
    assert bronze_units(lake) == {"210100": 3}
    assert_reconciled(lake)


def test_a_shrinking_correction_waits_for_accept_shrink(lake: LakeTables) -> None:
    first = loaded_first(lake)
    name = "gov_stats_monthly_210100-202403.csv"
    b.drop(lake, name, b.good_report(1))  # 4 rows -> 1: -75 %
    run = cycle(lake)
    batch = entry(lake, name)["batch_id"]
    assert run.rejected == [] and list(run.loaded.held) == [batch]
    assert held_corrections(lake.lake) == {
        batch: f"held: {name}: correction of 210100 2024-03 (batch {batch}) would shrink it from 4 to 1 "
        f"rows, more than the contract's 50%; batch {first} stays loaded until "
        "`ibrain ingest gov_stats_monthly --accept-shrink`"
    }
    assert bronze_units(lake) == {"210100": 4}
    again = cycle(lake)  # still held, nothing rejected, the ledger not rewritten
    version = lake.lake.ref("audit", "ingest_ledger")
    from ibrain import delta

    before = delta.version(lake.lake, version)
    assert (again.rejected, list(again.loaded.held)) == ([], [batch])
    assert cycle(lake).loaded.held and delta.version(lake.lake, version) == before
    accepted = cycle(lake, accept_shrink=True)
    assert accepted.loaded.loaded == [batch] and accepted.loaded.superseded == [first]
    assert bronze_units(lake) == {"210100": 1} and held_corrections(lake.lake) == {}
    assert_reconciled(lake)
    assert_next_run_clean(lake)


# ------------------------------------------------------------------------------ crash between steps


class Crash(RuntimeError):
    pass


def test_crash_after_the_rejected_copy_before_the_ledger_commit(
    lake: LakeTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.drop(lake, b.file_name("210100"), b.undecodable())
    b.drop(lake, GOOD_NAME, b.good_report(2))

    def crash(self, rows):
        raise Crash("killed before the ledger commit")

    monkeypatch.setattr(IngestLedger, "update", crash)
    with pytest.raises(Crash):
        cycle(lake)
    monkeypatch.undo()
    # the ledger still says pending and the landed file is still there: the re-run redoes it
    bad = entry(lake, b.file_name("210100"))
    assert bad["status"] == "pending" and lake.lake.exists(bad["landing_path"])
    [reason] = cycle(lake).rejected
    assert b.file_name("210100") in reason
    assert bronze_units(lake) == {"210200": 2}
    assert_next_run_clean(lake)


def test_crash_after_the_ledger_commit_before_the_landed_file_is_removed(
    lake: LakeTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.drop(lake, b.file_name("210100"), b.undecodable())
    b.drop(lake, GOOD_NAME, b.good_report(2))
    monkeypatch.setattr(bronze_module._Rejections, "finish", lambda self: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        cycle(lake)
    monkeypatch.undo()
    bad = entry(lake, b.file_name("210100"))
    assert bad["status"] == "failed" and lake.lake.exists(bad["landing_path"])  # the rejected copy
    stray = lake.lake.list_files(lake.lake.uri("landing", b.SOURCE, "2024-03"))
    assert len(stray) == 2  # the good file and the original of the rejected one
    assert_next_run_clean(lake)  # the sweep removed the original; nothing points at a gone file
    assert bronze_units(lake) == {"210200": 2}


def test_crash_after_landing_before_the_ledger_commit(
    lake: LakeTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.drop(lake, b.file_name("210100"), b.good_report(1))
    b.drop(lake, GOOD_NAME, b.good_report(2))
    real = LakeTables.append

    def crash(self, contract, df):
        if contract.name == "audit.ingest_ledger":
            raise Crash("killed before the ledger commit")
        return real(self, contract, df)

    monkeypatch.setattr(LakeTables, "append", crash)
    with pytest.raises(Crash):
        cycle(lake)
    monkeypatch.undo()
    assert len(lake.lake.list_files(lake.lake.uri("landing", b.SOURCE))) == 2  # landed, in no ledger row
    assert len(lake.lake.list_files(lake.lake.uri("landing", "_inbox", b.SOURCE))) == 2  # still waiting
    run = cycle(lake)
    assert len(run.collected.landed) == 2 and run.rejected == []
    assert bronze_units(lake) == {"210100": 1, "210200": 2}
    assert_next_run_clean(lake)


def test_sweep_leaves_a_fresh_unlisted_file_and_removes_an_old_one(lake: LakeTables) -> None:
    import datetime as dt
    import os

    from ingest.ledger import sweep_landing

    loaded_first(lake, rows=1)
    stray = lake.lake.uri("landing", b.SOURCE, "2024-03", "b0000000000000000__other.csv")
    lake.lake.write_bytes(stray, b"x")
    assert sweep_landing(lake.lake, b.SOURCE) == []  # another lander may be about to commit it
    an_hour_ago = (dt.datetime.now() - dt.timedelta(hours=1)).timestamp()
    os.utime(stray, (an_hour_ago, an_hour_ago))
    assert sweep_landing(lake.lake, b.SOURCE) == [stray]
    assert_next_run_clean(lake)
