"""The Dagster asset ``audit.security_trail``: checkpoint, idempotent append of new records, and the
check that runs the verification (fails on a tampered trail)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine

from catalog.tables import LakeTables
from orchestration.assets.audit import VERIFY_CHECK, audit_trail_definitions
from orchestration.resources import SparkResource
from security.audit.trail import record
from security.db import transaction
from tests.support.audit import ACTOR, audit_env, ready_engine, without_triggers

pytestmark = pytest.mark.integration


def _write(engine: Engine, objects: list[str]) -> None:
    for name in objects:
        with transaction(engine) as session:
            record(session, actor=ACTOR, event_type="data.read", object=name, result="success")


def _materialise() -> dg.ExecuteInProcessResult:
    asset, check = audit_trail_definitions()
    return dg.materialize([asset, check], resources={"spark": SparkResource()}, raise_on_error=False)


def test_copy_appends_new_records_once_and_the_check_verifies(
    tmp_lake: LakeTables, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    audit_env(monkeypatch, tmp_path, url)
    engine = ready_engine(url)
    _write(engine, ["gold.a", "gold.b", "gold.c"])

    first = _materialise()
    assert first.success
    assert first.asset_materializations_for_node("audit__security_trail")[0].metadata["appended"].value == 3
    assert [c.passed for c in first.get_asset_check_evaluations()] == [True]
    again = _materialise()  # nothing new: nothing appended
    assert again.asset_materializations_for_node("audit__security_trail")[0].metadata["appended"].value == 0
    _write(engine, ["gold.d", "gold.e"])
    assert _materialise().success

    rows = tmp_lake.read("audit", "security_trail").orderBy("seq").collect()
    assert [(r.seq, r.object, r.event_type, r.principal) for r in rows] == [
        (1, "gold.a", "data.read", "user:alice"),
        (2, "gold.b", "data.read", "user:alice"),
        (3, "gold.c", "data.read", "user:alice"),
        (4, "gold.d", "data.read", "user:alice"),
        (5, "gold.e", "data.read", "user:alice"),
    ]
    assert rows[1].prev_hash == rows[0].hash

    without_triggers(engine, "UPDATE audit_record SET object = 'gold.z' WHERE seq = 2")
    tampered = _materialise()
    (evaluation,) = tampered.get_asset_check_evaluations()
    assert evaluation.check_name == VERIFY_CHECK and not evaluation.passed
    assert "record #2 was edited" in evaluation.metadata["findings"].value
