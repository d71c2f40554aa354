"""`ibrain audit …` under separated duties (三员分立), through the real command in-process: search and
verify are the security auditor's, checkpoint and purge the system admin's with a fresh login; each
runs as the logged-in user and is audited, every refusal audited as refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from ibrain_cli import main
from security.audit import trail
from security.audit.models import AuditCheckpoint, AuditRecord
from security.db import transaction
from tests.support.audit import ACTOR, audit_env, log_in, ready_engine


def _cli(token: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], env={"IBRAIN_TOKEN": token})


def _records(engine: Engine, after: int = 0) -> list[tuple[str, str | None, str, str, str]]:
    with transaction(engine) as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq))
        return [(r.principal, r.role, r.event_type, r.object, r.result) for r in rows]


def _last(engine: Engine) -> AuditRecord:
    with transaction(engine) as session:
        found = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
        session.expunge(found)
        return found


def test_audit_commands_run_as_the_right_role_and_are_audited(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    audit_env(monkeypatch, tmp_path, url)
    engine = ready_engine(url)
    # three records of January 2025 (old enough to purge), written by user:alice
    monkeypatch.setattr(trail, "utc_now", lambda: datetime(2025, 1, 5, 8, tzinfo=UTC))
    for name in ("gold.a", "gold.b", "gold.c"):
        with transaction(engine) as session:
            trail.record(session, actor=ACTOR, event_type="data.read", object=name, result="success")
    monkeypatch.undo()  # the real clock again; the environment is set once more below
    audit_env(monkeypatch, tmp_path, url)
    eng = log_in(monkeypatch, engine, tmp_path, "eng", "data_engineer")
    stale_admin = log_in(monkeypatch, engine, tmp_path, "root", "system_admin", minutes_ago=20)
    admin = log_in(monkeypatch, engine, tmp_path, "chief", "system_admin")
    aud = log_in(monkeypatch, engine, tmp_path, "aud", "security_auditor")

    # refused, each audited as refused, before anything is read or changed
    needs, nothing = "needs the role security_auditor", "the security auditor cannot change anything"
    refusals = [
        (eng, ["search"], f"user:eng may not audit.read: {needs} (holds data_engineer)"),
        (admin, ["verify"], f"user:chief may not audit.read: {needs} (holds system_admin)"),
        (aud, ["checkpoint"], f"user:aud may not audit.manage: {nothing}"),
        (aud, ["purge", "--before", "2025-02-01"], f"user:aud may not audit.manage: {nothing}"),
        (
            stale_admin,
            ["purge", "--before", "2025-02-01"],
            "an admin action needs a login within the last 15",
        ),
    ]
    for token, args, reason in refusals:
        result = _cli(token, *args)
        assert result.exit_code == 1 and reason in result.output, result.output
    assert _records(engine, after=3) == [
        ("user:eng", "data_engineer", "audit.search", "audit_trail", "refused"),
        ("user:chief", "system_admin", "audit.verify", "audit_trail", "refused"),
        ("user:aud", "security_auditor", "audit.checkpoint", "audit_trail", "refused"),
        ("user:aud", "security_auditor", "audit.purge", "audit_trail", "refused"),
        ("user:root", "system_admin", "audit.purge", "audit_trail", "refused"),
    ]
    assert _last(engine).details.endswith(
        "an admin action needs a login within the last 15 minutes (`ibrain login`)"
    )

    # the auditor searches (recorded with the filters, before the result is shown) and verifies
    found = _cli(aud, "search", "--actor", "user:alice", "--since", "2025-01-01")
    assert found.exit_code == 0, found.output
    assert [line.split()[0] for line in found.output.splitlines() if line.startswith("#")] == [
        "#1",
        "#2",
        "#3",
    ]
    search_record = _last(engine)
    assert (search_record.seq, search_record.principal, search_record.event_type) == (
        9,
        "user:aud",
        "audit.search",
    )
    assert json.loads(search_record.params) == {
        "interface": "cli", "actor": "user:alice", "since": "2025-01-01T00:00:00.000000Z", "limit": 1000,
    }  # fmt: skip
    verified = _cli(aud, "verify")
    assert verified.exit_code == 0, verified.output
    assert "audit trail: 9 records" in verified.output and "9 unanchored records" in verified.output
    verify_record = _last(engine)
    assert (verify_record.seq, verify_record.event_type, verify_record.result) == (
        10,
        "audit.verify",
        "success",
    )
    assert json.loads(verify_record.params) == {
        "interface": "cli", "with_public_halves_only": False, "strict": False,
        "records": 9, "checkpoints": 0, "unanchored": 9, "findings": 0,
    }  # fmt: skip
    strict = _cli(aud, "verify", "--strict")  # fails on the 10 unanchored records: audited as a failure
    assert strict.exit_code == 1
    assert (_last(engine).result, _last(engine).details) == ("failure", "10 unanchored records (--strict)")

    # the admin, freshly logged in, signs a checkpoint that anchors its own record, then purges
    signed = _cli(admin, "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert signed.output.startswith("checkpoint #12 ")
    checkpoint_record = _last(engine)
    assert (checkpoint_record.seq, checkpoint_record.principal, checkpoint_record.role) == (
        12,
        "user:chief",
        "system_admin",
    )
    with transaction(engine) as session:
        assert session.get(AuditCheckpoint, 12).head_hash == checkpoint_record.hash
    too_young = (datetime.now(UTC) - timedelta(days=100)).strftime("%Y-%m-%d")
    refused_purge = _cli(admin, "purge", "--before", too_young)
    assert refused_purge.exit_code == 1 and "keeps less than 180 days" in refused_purge.output
    assert (_last(engine).seq, _last(engine).event_type, _last(engine).result) == (
        13,
        "audit.purge",
        "failure",
    )
    purged = _cli(admin, "purge", "--before", "2025-02-01")
    assert purged.exit_code == 0, purged.output
    assert "purged records #1–#3 (3 removed); purge recorded as #14" in purged.output
    purge_record = _last(engine)
    assert (purge_record.principal, purge_record.role, purge_record.event_type) == (
        "user:chief",
        "system_admin",
        "audit.purge",
    )
    assert json.loads(purge_record.params) == {
        "cut": 3,
        "cutoff": "2025-02-01T00:00:00.000000Z",
        "removed": 3,
    }
    after = _cli(aud, "verify")  # what remains verifies from the checkpoint at the cut
    assert after.exit_code == 0, after.output
    assert "audit trail: 11 records (#4–#14" in after.output
