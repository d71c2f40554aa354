"""Tampering with a copy of the audit trail, as an attacker with database access would (raw SQL,
the append-only triggers out of the way): `ibrain audit verify` exits non-zero naming the record or
checkpoint; an untouched trail exits 0. On SQLite and PostgreSQL (the ``state_db_url`` fixture).

The trail: 30 records; signed checkpoints after records 10 and 20 (so 10 unanchored records).
`ibrain audit verify` runs as a logged-in security auditor and appends its own audit.verify record
after verifying.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text

from ibrain_cli import main
from security.actor import Actor
from security.audit import trail
from security.audit.checkpoints import create_checkpoint
from security.audit.models import AuditRecord
from security.audit.verify import verify
from security.db import transaction
from security.keys import load_keyring
from tests.support.audit import ACTOR, audit_env, log_in, ready_engine, without_triggers, write_actions


def _trail(engine: Engine) -> None:
    for number in range(1, 31):
        with transaction(engine) as session:
            trail.record(
                session,
                actor=ACTOR,
                event_type="data.read",
                object=f"gold.table_{number}",
                result="success",
                params={"n": number},
            )
        if number in (10, 20):
            create_checkpoint(engine)


@pytest.fixture
def engine(state_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    audit_env(monkeypatch, tmp_path, state_db_url)
    engine = ready_engine(state_db_url)
    log_in(monkeypatch, engine, tmp_path, "aud", "security_auditor")
    _trail(engine)
    yield engine
    engine.dispose()


def _verify(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", "verify", *args])


def _hash(engine: Engine, seq: int) -> str:
    with transaction(engine) as session:
        return session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == seq))


def test_untouched_trail_verifies(engine: Engine) -> None:
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "audit trail: 30 records (#1–#30" in result.output
    assert "checkpoints: 2 valid, last at #20; 10 unanchored records" in result.output
    strict = _verify("--strict")  # the first verification's own record is #31, unanchored too
    assert strict.exit_code == 1 and "11 unanchored records after the last checkpoint" in strict.output


def test_verify_with_the_public_keys_only(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = CliRunner().invoke(main, ["keys", "show-public", "checkpoint"])
    assert shown.exit_code == 0, shown.output
    public = tmp_path / "checkpoint.pub"
    public.write_text(shown.output)
    monkeypatch.setenv("IBRAIN_CHECKPOINT_KEY_FILE", str(tmp_path / "no-such-key.json"))
    result = _verify("--public-keys", str(public))
    assert result.exit_code == 0, result.output
    other = tmp_path / "other.pub"  # a key that did not sign these checkpoints
    other.write_text(shown.output.split()[0] + " " + "A" * 43 + "=\n")
    forged = _verify("--public-keys", str(other))
    assert forged.exit_code == 1
    assert "checkpoint #10 (database): signature invalid" in forged.output


def test_edited_field(engine: Engine) -> None:
    without_triggers(engine, "UPDATE audit_record SET object = 'gold.other' WHERE seq = 7")
    result = _verify()
    assert result.exit_code == 1
    assert "first: record #7 was edited: its SM3 hash does not match its fields" in result.output


def test_edited_field_with_its_hash_recomputed(engine: Engine) -> None:
    with transaction(engine) as session:
        forged = session.get(AuditRecord, 7)
        session.expunge(forged)
    forged.result = "failure"
    without_triggers(
        engine,
        "UPDATE audit_record SET result = 'failure', hash = :hash WHERE seq = 7",
        params={"hash": trail.record_hash(forged)},
    )
    result = _verify()
    assert result.exit_code == 1
    assert (
        "first: record #7 was edited and its hash recomputed: record #8 does not link to it" in result.output
    )


def test_deleted_record(engine: Engine) -> None:
    without_triggers(engine, "DELETE FROM audit_record WHERE seq = 12")
    result = _verify()
    assert result.exit_code == 1
    assert "first: record #12 deleted: the trail jumps from #11 to #13" in result.output


def test_retention_is_verified(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention ≥ 180 days is part of the verification (and so of the `audit_trail` job's check): a
    purge that kept less — here by a purge tool without the minimum — and a cut of the oldest
    records without an audited purge are both named."""
    from datetime import timedelta

    from security.audit import purge as purge_module
    from security.audit.purge import purge

    monkeypatch.setattr(purge_module, "MIN_RETENTION_DAYS", 0)
    admin = Actor("user:root", "org:platform", "system_admin")
    after_all = trail.utc_now() + timedelta(seconds=1)  # every record so far is older
    done = purge(engine, before=after_all, actor=admin, now=after_all)
    assert (done.cut, done.removed, done.record_seq) == (30, 30, 31)
    result = _verify()
    assert result.exit_code == 1
    assert "first: purge record #31 removed records younger than 180 days" in result.output


def test_oldest_records_cut_without_an_audited_purge(engine: Engine) -> None:
    without_triggers(engine, "DELETE FROM audit_record WHERE seq <= 5")
    result = _verify()
    assert result.exit_code == 1
    assert "first: records #1–#5 are missing; no signed checkpoint at #5 anchors #6" in result.output
    assert "TAMPERED (retention): records #1–#5 were removed without an audited purge" in result.output


def test_two_records_swapped(engine: Engine) -> None:
    without_triggers(
        engine,
        "UPDATE audit_record SET seq = -15 WHERE seq = 15",
        "UPDATE audit_record SET seq = 15 WHERE seq = 16",
        "UPDATE audit_record SET seq = 16 WHERE seq = -15",
    )
    result = _verify()
    assert result.exit_code == 1
    assert "first: record #15 holds record #16 (records reordered)" in result.output
    assert "record #16 holds record #15 (records reordered)" in result.output


def test_record_inserted(engine: Engine) -> None:
    """A forged record with a correct hash, linked to record 4, the later records renumbered."""
    forged = AuditRecord(
        seq=5,
        recorded_at="2025-01-01T00:00:00.000000Z",
        principal="user:mallory",
        org=None,
        role=None,
        event_type="data.read",
        object="gold.secret_table",
        result="success",
        params="{}",
        request_id=None,
        client=None,
        details=None,
        prev_hash=_hash(engine, 4),
    )
    forged.hash = trail.record_hash(forged)
    columns = [c.key for c in AuditRecord.__table__.columns]
    without_triggers(
        engine,
        "UPDATE audit_record SET seq = -(seq + 1) WHERE seq >= 5",
        "UPDATE audit_record SET seq = -seq WHERE seq < 0",
        f"INSERT INTO audit_record ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
        "UPDATE audit_head SET seq = 31 WHERE id = 1",
        params={c: getattr(forged, c) for c in columns},
    )
    result = _verify()
    assert result.exit_code == 1
    assert "first: record #5 was inserted: record #6 links past it" in result.output


def test_cut_across_a_checkpoint(engine: Engine) -> None:
    """Records 18–30 deleted, the head moved back, the checkpoint rows deleted too: the exported
    checkpoint still names the cut."""
    without_triggers(
        engine,
        "DELETE FROM audit_record WHERE seq > 17",
        "DELETE FROM audit_checkpoint WHERE seq = 20",
        "UPDATE audit_head SET seq = 17, hash = (SELECT hash FROM audit_record WHERE seq = 17) WHERE id = 1",
    )
    result = _verify()
    assert result.exit_code == 1
    assert "checkpoint #20 is exported but missing from the database" in result.output
    assert "checkpoint #20: the trail ends at #17 — records after it were cut (deleted)" in result.output


def test_cut_of_unanchored_records_seen_by_the_head(engine: Engine) -> None:
    without_triggers(engine, "DELETE FROM audit_record WHERE seq > 27")
    result = _verify()
    assert result.exit_code == 1
    assert "first: the chain head says #30 but the trail ends at #27" in result.output


def test_whole_chain_rewritten_is_caught_by_the_checkpoints(engine: Engine) -> None:
    """Record 7 edited and every later hash recomputed (a self-consistent forged chain)."""
    with transaction(engine) as session:
        records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        session.expunge_all()
    statements, params = [], {}
    previous = records[5].hash
    for entry in records[6:]:
        if entry.seq == 7:
            entry.object = "gold.other"
        entry.prev_hash = previous
        entry.hash = previous = trail.record_hash(entry)
        statements.append(
            f"UPDATE audit_record SET object = :o{entry.seq}, prev_hash = :p{entry.seq}, "
            f"hash = :h{entry.seq} WHERE seq = {entry.seq}"
        )
        params |= {
            f"o{entry.seq}": entry.object,
            f"p{entry.seq}": entry.prev_hash,
            f"h{entry.seq}": entry.hash,
        }
    statements.append(f"UPDATE audit_head SET hash = '{previous}' WHERE id = 1")
    without_triggers(engine, *statements, params=params)
    keys = {key.kid: key.public for key in load_keyring("checkpoint").keys}
    findings = verify(engine, keys).findings
    assert [(f.kind, f.seq) for f in findings] == [("checkpoint", 10), ("checkpoint", 20)]
    result = _verify()
    assert result.exit_code == 1
    assert "first: checkpoint #10: record #10's hash differs from the signed head hash" in result.output


@pytest.mark.slow
def test_concurrent_writers_make_one_chain(
    state_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """8 writer processes × 200 audited actions: 1600 records, one chain, no fork, verifies."""
    audit_env(monkeypatch, tmp_path, state_db_url)
    engine = ready_engine(state_db_url)
    log_in(monkeypatch, engine, tmp_path, "aud", "security_auditor")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=write_actions, args=(state_db_url, w, 200)) for w in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0] * 8
    with engine.connect() as connection:
        seqs = [row[0] for row in connection.execute(text("SELECT seq FROM audit_record ORDER BY seq"))]
        prevs = connection.execute(text("SELECT COUNT(DISTINCT prev_hash) FROM audit_record")).scalar_one()
        per_worker = dict(
            connection.execute(text("SELECT principal, COUNT(*) FROM audit_record GROUP BY principal")).all()
        )
    assert seqs == list(range(1, 1601))
    assert prevs == 1600  # no two records share a predecessor: no fork
    assert per_worker == {f"app:worker-{w}": 200 for w in range(8)}
    create_checkpoint(engine)
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "audit trail: 1600 records" in result.output and "0 unanchored records" in result.output
