"""Inbox hygiene (issue 12, item 4) and odd drops, on a small local lake with the real engine:
links and devices rejected without touching what they point at, names sanitised for storage
(the ledger keeps the original), subfolders and hidden files reported and left, duplicates and
files replaced while read handled."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ingest.inbox import _LocalFile, inbox_notices, pending_work
from ingest.ledger import IngestLedger, storage_name
from tests.robustness import builders as b
from tests.robustness.conftest import assert_next_run_clean, assert_reconciled, cycle

pytestmark = pytest.mark.integration

GOOD_NAME = b.file_name("210200")


def inbox(lake: LakeTables) -> Path:
    path = Path(lake.lake.uri("landing", "_inbox", b.SOURCE))
    path.mkdir(parents=True, exist_ok=True)
    return path


def bronze_units(tables: LakeTables) -> dict[str, int]:
    rows = tables.read("bronze", b.SOURCE).groupBy("reporting_unit").count().collect()
    return {r.reporting_unit: r["count"] for r in rows}


def test_a_link_is_rejected_and_its_target_left_untouched(lake: LakeTables, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_bytes(b.good_report(1))
    name = b.file_name("210100")
    (inbox(lake) / name).symlink_to(secret)
    (inbox(lake) / "gov_stats_monthly_210300_202403.csv").symlink_to(tmp_path / "elsewhere")  # to a folder
    b.drop(lake, GOOD_NAME, b.good_report(2))
    assert b.SOURCE in pending_work(lake.lake)
    run = cycle(lake)
    assert sorted(run.collected.rejected) == [name, "gov_stats_monthly_210300_202403.csv"]
    assert run.collected.rejected[name].startswith(
        f"{name}: a symbolic link (to {str(secret)!r}) in the inbox"
    )
    assert secret.read_bytes() == b.good_report(1)  # untouched, and never landed
    reason = lake.lake.uri("landing", "_rejected", b.SOURCE, "_unsafe", f"{name}.reason.txt")
    assert "not read" in lake.lake.read_bytes(reason).decode()
    assert bronze_units(lake) == {"210200": 2}
    assert len(IngestLedger(lake).entries()) == 1  # nothing of the links landed
    assert_next_run_clean(lake)


def test_a_fifo_is_rejected_without_blocking(lake: LakeTables) -> None:
    name = b.file_name("210100")
    os.mkfifo(inbox(lake) / name)  # opening it for reading would wait for a writer forever
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    assert list(run.collected.rejected) == [name] and "a FIFO" in run.collected.rejected[name]
    assert bronze_units(lake) == {"210200": 2}
    assert_next_run_clean(lake)


def test_a_file_swapped_for_a_link_after_the_scan_is_not_followed(
    lake: LakeTables, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b.good_report(3))
    name = b.file_name("210100")
    path = inbox(lake) / name
    path.write_bytes(b.good_report(1))
    real = _LocalFile.read

    def swap_then_read(self: _LocalFile) -> bytes:
        if self.path.endswith(name):
            os.unlink(self.path)
            os.symlink(secret, self.path)
        return real(self)

    monkeypatch.setattr(_LocalFile, "read", swap_then_read)
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    assert list(run.collected.rejected) == [name]
    assert secret.read_bytes() == b.good_report(3) and not path.is_symlink()
    assert bronze_units(lake) == {"210200": 2}
    monkeypatch.undo()
    assert_next_run_clean(lake)


def test_subfolders_and_hidden_files_are_reported_and_left(lake: LakeTables) -> None:
    (inbox(lake) / "archive").mkdir()
    (inbox(lake) / "archive" / b.file_name("210100")).write_bytes(b.good_report(1))
    (inbox(lake) / f".{GOOD_NAME}.part").write_bytes(b"upload in progress")
    Path(lake.lake.uri("landing", "_inbox", "no_such_source")).mkdir(parents=True)
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    assert run.collected.notices == [
        "gov_stats_monthly: hidden file .gov_stats_monthly_210200_202403.csv.part left in the inbox "
        "(only files are collected)",
        "gov_stats_monthly: subfolder archive left in the inbox (only files are collected)",
    ]
    assert inbox_notices(lake.lake) == [
        "landing/_inbox/no_such_source: not a source's inbox; its files are not collected",
        "gov_stats_monthly: hidden file .gov_stats_monthly_210200_202403.csv.part left in the inbox",
        "gov_stats_monthly: subfolder archive left in the inbox",
    ]
    assert (inbox(lake) / "archive" / b.file_name("210100")).exists()
    assert bronze_units(lake) == {"210200": 2}
    assert b.SOURCE not in pending_work(lake.lake)  # what is left starts no run


@pytest.mark.parametrize(
    "name",
    [
        "gov_stats_monthly_210100_202403\n.csv",
        "gov_stats_monthly_210100_202403\x1b[31m\r.csv",
        # 246 bytes: the inbox holds it, but not with the batch prefix and ".reason.txt" added
        "gov_stats_monthly_210100_202403_" + "很长的名字" * 14 + ".csv",
        "gov_stats_monthly_210100_202403\\..\\x.csv",
    ],
    ids=["newline", "control characters", "over-long", "dots and backslashes"],
)
def test_odd_names_are_stored_sanitised_and_kept_in_the_ledger(lake: LakeTables, name: str) -> None:
    (inbox(lake) / name).write_bytes(b.good_report(1))
    b.drop(lake, GOOD_NAME, b.good_report(2))
    run = cycle(lake)
    assert run.rejected == [] and run.collected.notices == []
    odd = next(e for e in IngestLedger(lake).entries() if e["reporting_unit"] == "210100")
    assert odd["file_name"] == name and odd["status"] == "loaded"
    stored = os.path.basename(odd["landing_path"])
    assert stored == f"{odd['batch_id']}__{storage_name(name)}"
    assert len(stored.encode()) + len(".reason.txt") <= 255
    assert all(c.isprintable() and c not in "/\\" for c in stored) and stored.endswith(".csv")
    assert bronze_units(lake) == {"210100": 1, "210200": 2}
    assert_reconciled(lake)
    assert_next_run_clean(lake)


def test_storage_name_by_hand() -> None:
    assert storage_name("a\nb/c\\d.csv") == "a_b_c_d.csv"
    assert storage_name(".hidden.csv") == "_hidden.csv"
    assert storage_name(unicodedata.normalize("NFD", "é.csv")) == "é.csv"  # NFC
    long = storage_name("x" * 300 + ".xlsx")
    assert len(long) == 200 and long.startswith("x" * 186 + "~") and long.endswith(".xlsx")


def test_names_differing_in_normalisation_or_case_are_two_deliveries(lake: LakeTables) -> None:
    nfc = "gov_stats_monthly_210100_202403_é.csv"
    nfd = unicodedata.normalize("NFD", nfc)
    (inbox(lake) / nfc).write_bytes(b.good_report(3))
    (inbox(lake) / nfd).write_bytes(b.good_report(2, output="7"))  # sorted first ("e" + accent)
    (inbox(lake) / "GOV_STATS_MONTHLY_210200_202403.CSV").write_bytes(b.good_report(2))
    run = cycle(lake)
    assert len(run.collected.landed) == 3 and run.rejected == [] and len(run.loaded.superseded) == 1
    assert bronze_units(lake) == {"210100": 3, "210200": 2}  # of one drop, the later one wins
    assert_next_run_clean(lake)


def test_the_same_file_twice_in_one_drop_and_a_zero_byte_file(lake: LakeTables) -> None:
    b.drop(lake, b.file_name("210100"), b.good_report(2))
    b.drop(lake, "copy_of_" + b.file_name("210100"), b.good_report(2))
    b.drop(lake, b.file_name("210300"), b"")
    run = cycle(lake)
    # listed in name order: the copy lands, the original is the same content again
    assert len(run.collected.landed) == 2 and run.collected.unchanged == [b.file_name("210100")]
    [reason] = run.rejected
    assert b.file_name("210300") in reason and "no header line" in reason
    assert bronze_units(lake) == {"210100": 2}
    assert_next_run_clean(lake)


def test_a_file_replaced_while_it_is_read_is_left_for_the_next_run(
    lake: LakeTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = b.file_name("210100")
    path = inbox(lake) / name
    path.write_bytes(b.good_report(1))
    real = _LocalFile.read

    def read_then_replace(self: _LocalFile) -> bytes:
        data = real(self)
        if self.path.endswith(name):
            tmp = path.with_name("next")
            tmp.write_bytes(b.good_report(3))
            tmp.replace(path)  # the sender's atomic replace, after our read
        return data

    monkeypatch.setattr(_LocalFile, "read", read_then_replace)
    run = cycle(lake)
    assert run.collected.changing == [name] and path.read_bytes() == b.good_report(3)
    assert bronze_units(lake) == {"210100": 1}
    monkeypatch.undo()
    again = cycle(lake)  # the new version: a correction
    assert len(again.loaded.loaded) == 1 and bronze_units(lake) == {"210100": 3}
    assert_next_run_clean(lake)
