"""The audit trail's writer: chained records, refusals, redaction, append-only triggers, search,
purge (SQLite and PostgreSQL). The tamper tests are in test_audit_tamper.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from security.actor import Actor
from security.audit import trail
from security.audit.checkpoints import CheckpointExport
from security.audit.models import GENESIS_HASH, AuditHead, AuditRecord
from security.audit.purge import purge
from security.audit.search import search
from security.audit.trail import AuditError, record
from security.audit.verify import verify
from security.db import transaction
from security.keys import load_keyring
from tests.support.audit import ACTOR, audit_env, ready_engine


def _keys() -> dict:
    return {key.kid: key.public for key in load_keyring("checkpoint").keys}


def test_records_are_chained_with_actor_and_utc_microseconds(state_db_url: str) -> None:
    engine = ready_engine(state_db_url)
    with transaction(engine) as session:
        first = record(session, actor=ACTOR, event_type="auth.login", object="user:alice", result="success")
        second = record(
            session,
            actor=ACTOR,
            event_type="ops.withdraw",
            object="batch:b0123",
            result="failure",
            params={"reason": "辖区错误", "rows": 3},
            request_id="req-1",
            client="10.0.0.7",
            details="unknown batch",
        )
    with transaction(engine) as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        head = session.get(AuditHead, 1)
    assert [r.seq for r in rows] == [1, 2]
    assert rows[0].prev_hash == GENESIS_HASH and rows[1].prev_hash == first.hash
    assert (head.seq, head.hash) == (2, second.hash)
    assert (rows[1].principal, rows[1].org, rows[1].role) == (
        "user:alice",
        "org:330100-bureau",
        "data_engineer",
    )
    assert rows[1].params == '{"reason":"辖区错误","rows":3}'
    assert (rows[1].request_id, rows[1].client, rows[1].details) == ("req-1", "10.0.0.7", "unknown batch")
    assert len(rows[0].recorded_at) == 27 and rows[0].recorded_at.endswith("Z")
    assert rows[0].recorded_at[19] == "." and rows[0].recorded_at[20:26].isdigit()
    assert len(rows[0].hash) == 64 and rows[0].hash != rows[1].hash


def test_record_hash_is_sm3_of_the_canonical_fields() -> None:
    """Pinned against SM3's published test vector: SM3("abc") = 66c7f0f4…8e0 (GB/T 32905-2016)."""
    assert trail.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    entry = AuditRecord(
        seq=1,
        recorded_at="2025-01-01T00:00:00.000000Z",
        principal="system:test",
        org=None,
        role=None,
        event_type="auth.login",
        object="x",
        result="success",
        params="{}",
        request_id=None,
        client=None,
        details=None,
        prev_hash=GENESIS_HASH,
    )
    expected = (
        '{"client":null,"details":null,"event_type":"auth.login","object":"x","org":null,"params":{},'
        f'"prev_hash":"{GENESIS_HASH}","principal":"system:test","recorded_at":"2025-01-01T00:00:00.000000Z",'
        '"request_id":null,"result":"success","role":null,"seq":1,"v":1}'
    )
    assert trail.record_payload(entry) == expected.encode()
    assert trail.record_hash(entry) == trail.sm3_hex(expected.encode())


def test_unknown_event_or_result_fails_the_whole_transaction(state_db_url: str) -> None:
    engine = ready_engine(state_db_url)
    with (
        pytest.raises(AuditError, match=r"unknown audit event type 'auth\.loginn'"),
        transaction(engine) as session,
    ):
        record(session, actor=ACTOR, event_type="auth.login", object="user:alice", result="success")
        record(session, actor=ACTOR, event_type="auth.loginn", object="user:alice", result="success")
    with pytest.raises(AuditError, match="audit result 'ok'"), transaction(engine) as session:
        record(session, actor=ACTOR, event_type="auth.login", object="user:alice", result="ok")
    with transaction(engine) as session:
        assert session.scalars(select(AuditRecord)).all() == []
        assert session.get(AuditHead, 1).seq == 0


def test_secrets_in_params_are_stored_redacted(state_db_url: str) -> None:
    """The canary: planted secrets appear nowhere in the stored row; other values stay."""
    engine = ready_engine(state_db_url)
    canaries = ["canary-pw-7f3a", "canary-secret-91bc", "canary-token-55de", "canary-key-0a0a"]
    with transaction(engine) as session:
        record(
            session,
            actor=ACTOR,
            event_type="app.secret",
            object="app:portal",
            result="success",
            params={
                "Password": canaries[0],
                "app": {"AppSecret": canaries[1], "name": "portal"},
                "tokens": [{"access_token": canaries[2]}],
                "api_key": canaries[3],
            },
        )
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM audit_record")).one()
    stored = " ".join(str(value) for value in row)
    assert not [canary for canary in canaries if canary in stored]
    assert json.loads(row.params) == {
        "Password": "[redacted]",
        "app": {"AppSecret": "[redacted]", "name": "portal"},
        "tokens": "[redacted]",
        "api_key": "[redacted]",
    }


def test_records_cannot_be_updated_or_deleted(state_db_url: str) -> None:
    engine = ready_engine(state_db_url)
    with transaction(engine) as session:
        record(session, actor=ACTOR, event_type="auth.login", object="user:alice", result="success")
    for statement in ("UPDATE audit_record SET result = 'failure'", "DELETE FROM audit_record"):
        with pytest.raises(DBAPIError, match="append-only"), transaction(engine) as session:
            session.execute(text(statement))
    with transaction(engine) as session:
        assert session.scalars(select(AuditRecord.result)).all() == ["success"]


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(trail, "utc_now", lambda: moment)


def test_search_by_actor_object_event_and_time(
    state_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = ready_engine(state_db_url)
    bob = Actor("user:bob", "org:x", "consumer")
    plan = [  # (day of January 2025, actor, event, object)
        (1, ACTOR, "auth.login", "user:alice"),
        (2, bob, "data.read", "gold.fact_output"),
        (3, ACTOR, "ops.withdraw", "batch:b1"),
        (4, bob, "data.read", "gold.dim_enterprise"),
        (5, bob, "auth.login", "user:bob"),
    ]
    for day, actor, event, obj in plan:
        _at(monkeypatch, datetime(2025, 1, day, 8, tzinfo=UTC))
        with transaction(engine) as session:
            record(session, actor=actor, event_type=event, object=obj, result="success")
    seqs = lambda found: [r.seq for r in found]  # noqa: E731
    assert seqs(search(engine, actor="user:bob")) == [2, 4, 5]
    assert seqs(search(engine, object="gold.*")) == [2, 4]
    assert seqs(search(engine, event="auth.login")) == [1, 5]
    assert seqs(search(engine, actor="user:bob", event="data.read", object="gold.dim_*")) == [4]
    since, until = datetime(2025, 1, 2, 8, tzinfo=UTC), datetime(2025, 1, 4, 8, tzinfo=UTC)
    assert seqs(search(engine, since=since, until=until)) == [2, 3]
    assert seqs(search(engine, object="gold_*")) == []  # _ is literal, not a LIKE wildcard


def test_purge_keeps_the_rest_verifiable_and_respects_retention(
    state_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    audit_env(monkeypatch, tmp_path, state_db_url)
    engine = ready_engine(state_db_url)
    for moment, count in ((datetime(2025, 1, 1, tzinfo=UTC), 10), (datetime(2025, 3, 1, tzinfo=UTC), 10)):
        _at(monkeypatch, moment)
        for _ in range(count):
            with transaction(engine) as session:
                record(session, actor=ACTOR, event_type="data.read", object="gold.x", result="success")
    admin = Actor("user:root", "org:platform", "system_admin")
    _at(monkeypatch, datetime(2025, 9, 1, tzinfo=UTC))
    # 2025-03-10 is 175 days before 2025-09-01: refused
    with pytest.raises(AuditError, match="keeps less than 180 days"):
        purge(engine, before=datetime(2025, 3, 10, tzinfo=UTC), actor=admin)
    done = purge(engine, before=datetime(2025, 2, 1, tzinfo=UTC), actor=admin)
    assert (done.cut, done.removed, done.record_seq) == (10, 10, 21)
    with transaction(engine) as session:
        assert [r.seq for r in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))] == list(
            range(11, 22)
        )
        purge_record = session.get(AuditRecord, 21)
    assert json.loads(purge_record.params) == {
        "cut": 10,
        "cutoff": "2025-02-01T00:00:00.000000Z",
        "removed": 10,
    }
    assert purge_record.principal == "user:root" and purge_record.event_type == "audit.purge"
    exported = CheckpointExport.from_settings()
    assert exported.location == str(tmp_path / "audit-checkpoints")
    assert sorted(exported.read_all()) == [10, 21]
    report = verify(engine, _keys(), exported)
    assert report.findings == []
    assert (report.records, report.first_seq, report.last_seq, report.unanchored) == (11, 11, 21, 0)
