"""Purge audit records older than a cut-off, keeping the rest verifiable (retention ≥ 180 days).

Why this shape: the trail must be kept at least six months (网络安全法 Art. 21) and may then be
trimmed, but what remains must still verify. The purge therefore, in one transaction: signs a
checkpoint at the cut (the last record removed), so the first remaining record is anchored by a
signature; removes the records at or below the cut — through the purge function on PostgreSQL,
by raising the purge gate on SQLite (the append-only triggers refuse any other delete); and writes
its own ``audit.purge`` record naming the cut and the cut-off, which ``verify`` checks against the
retention minimum. After the commit it signs a checkpoint at the new head and exports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, text, update

from security.actor import Actor
from security.audit import trail
from security.audit.checkpoints import (
    CheckpointExport,
    create_checkpoint,
    export_checkpoints,
    sign_checkpoint,
)
from security.audit.models import AuditPurgeGate, AuditRecord
from security.audit.trail import AuditError, lock_head, record, utc_text
from security.audit.verify import MIN_RETENTION_DAYS
from security.db import transaction
from security.keys import Keyring, load_keyring


@dataclass(frozen=True)
class PurgeResult:
    cut: int  # the last removed record's seq (0: nothing removed)
    removed: int
    record_seq: int | None  # the audit.purge record


def purge(
    engine: Engine,
    *,
    before: datetime,
    actor: Actor,
    keyring: Keyring | None = None,
    export: CheckpointExport | None = None,
    now: datetime | None = None,
    client: str | None = None,
) -> PurgeResult:
    """Remove the records older than ``before`` (all records before the first one at or after it).

    Refuses a cut-off less than ``MIN_RETENTION_DAYS`` days before ``now``. Who may purge is the
    caller's decision (``security.authz``: ``audit.manage``, the system admin freshly logged in);
    ``actor`` and ``client`` go into the ``audit.purge`` record.
    """
    now = now or trail.utc_now()
    if before > now - timedelta(days=MIN_RETENTION_DAYS):
        raise AuditError(
            f"purge cut-off {utc_text(before)} keeps less than {MIN_RETENTION_DAYS} days of the audit trail"
        )
    keyring = keyring or load_keyring("checkpoint")
    export = export or CheckpointExport.from_settings()
    cutoff = utc_text(before)
    with transaction(engine) as session:
        head = lock_head(session)
        first_young = session.scalar(
            select(func.min(AuditRecord.seq)).where(AuditRecord.recorded_at >= cutoff)
        )
        cut = (first_young - 1) if first_young is not None else head.seq
        oldest = session.scalar(select(func.min(AuditRecord.seq)))
        if oldest is None or cut < oldest:
            return PurgeResult(0, 0, None)
        cut_hash = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == cut))
        if cut_hash is None:
            raise AuditError(f"record #{cut} is missing: run `ibrain audit verify`")
        sign_checkpoint(session, cut, cut_hash, keyring)
        if engine.dialect.name == "postgresql":
            removed = int(session.execute(text("SELECT audit_purge(:cut)"), {"cut": cut}).scalar_one())
        else:
            session.execute(update(AuditPurgeGate).where(AuditPurgeGate.id == 1).values(through=cut))
            removed = session.execute(AuditRecord.__table__.delete().where(AuditRecord.seq <= cut)).rowcount
        entry = record(
            session,
            actor=actor,
            event_type="audit.purge",
            object="audit.trail",
            result="success",
            params={"cut": cut, "cutoff": cutoff, "removed": removed},
            client=client,
        )
        record_seq = entry.seq
    export_checkpoints(engine, export)
    create_checkpoint(engine, keyring, export)
    return PurgeResult(cut, removed, record_seq)
