"""Rows quarantined as unresolved_enterprise are re-resolved when the enterprise master changes
(transforms/silver/framework.py: reresolved_periods), so silver does not depend on whether the
registry arrived before or after the facts."""

from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.fingerprint import TableFingerprint, table_fingerprint
from ibrain.lake import Lake
from ibrain.settings import Settings
from ingest.reference import load_reference
from tests.conftest import lake_env
from tests.integration.test_silver import (
    GOOD,
    NAMES,
    OTHER,
    THIRD,
    code,
    deliver_stats,
    registry,
    row,
    stats,
    version,
)
from transforms.silver.framework import build
from transforms.silver.resolution import enterprise_id_py

pytestmark = pytest.mark.integration

COMPARED = [
    ("silver", "enterprise_month_stats"),
    ("quarantine", "silver_enterprise_month_stats"),
    ("silver", "enterprise_match_review"),
    ("silver", "enterprise"),
]


def wrong_digit(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


FACTS = [
    row(
        wrong_digit(THIRD), name=NAMES[THIRD], region="210103"
    ),  # line 3: by name in its city, once registered
    row(GOOD),  # 4: a valid USCC needs no master
    row(wrong_digit(OTHER), name=NAMES[OTHER], region="210202"),  # 5: 大连: OTHER (沈阳) is a 0.6 candidate
    row(wrong_digit(code("210104", "MA0NNAM01")), name="沈阳无名公司"),  # 6: no such name ever
]


def open_lake(base: Path, monkeypatch: pytest.MonkeyPatch) -> LakeTables:
    for key, value in lake_env(base).items():
        monkeypatch.setenv(key, value)
    tables = LakeTables(lake=Lake(Settings.from_env()))
    load_reference(tables)
    return tables


def prints(tables: LakeTables) -> dict[str, TableFingerprint]:
    return {
        f"{layer}.{t}": table_fingerprint(tables.read(layer, t), f"{layer}.{t}", tables.lake.root)
        for layer, t in COMPARED
    }


def test_facts_before_the_registry_end_as_registry_before_the_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = [version(c) for c in NAMES]

    # Registry first, then the facts.
    first = open_lake(tmp_path / "registry_first", monkeypatch)
    registry(first, registered)
    deliver_stats(first, FACTS)
    assert build(first, stats()).periods == ["2024-03"]
    expected = prints(first)

    # The facts first: nothing can be resolved by name yet.
    late = open_lake(tmp_path / "registry_late", monkeypatch)
    deliver_stats(late, FACTS)
    report = build(late, stats())
    assert report.rows_silver == 1 and report.quarantined == {"unresolved_enterprise": 3}
    reviews = late.read("silver", "enterprise_match_review").collect()
    assert sorted((r._row_number, r.candidate_enterprise_id, r.status) for r in reviews) == [
        (3, None, "pending"),
        (5, None, "pending"),
        (6, None, "pending"),
    ]
    assert build(late, stats()).periods == []  # nothing changed: nothing to redo

    # The registry arrives: the month is rebuilt and the rows re-resolved.
    registry(late, registered)
    report = build(late, stats())
    assert report.periods == ["2024-03"]
    assert report.rows_silver == 2 and report.quarantined == {"unresolved_enterprise": 2}
    silver = {r._row_number: r for r in late.read("silver", "enterprise_month_stats").collect()}
    assert (silver[3].enterprise_id, silver[3].resolution) == (enterprise_id_py(THIRD), "name_region")
    assert (silver[4].enterprise_id, silver[4].resolution) == (enterprise_id_py(GOOD), "uscc")
    quarantined = late.read("quarantine", "silver_enterprise_month_stats").collect()
    assert sorted((r._row_number, r.rule_id) for r in quarantined) == [
        (5, "unresolved_enterprise"),
        (6, "unresolved_enterprise"),
    ]
    # Line 3 resolved: its pending review is gone; line 5 now has OTHER as a candidate (other city).
    reviews = late.read("silver", "enterprise_match_review").collect()
    assert sorted((r._row_number, r.candidate_uscc, r.confidence, r.status) for r in reviews) == [
        (5, OTHER, 0.6, "pending"),
        (6, None, None, "pending"),
    ]
    bronze = late.read("bronze", "gov_stats_monthly").count()
    assert bronze == 4 == len(silver) + len(quarantined)  # bronze = silver + quarantine

    assert prints(late) == expected
    assert build(late, stats()).periods == []  # and, once re-resolved, nothing is stale again
