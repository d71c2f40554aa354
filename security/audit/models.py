"""The audit trail's tables (created by the Alembic revision ``0002_audit``).

``audit_record`` is append-only: no code path updates or deletes a row, and a trigger refuses
both (a delete only below the purge gate, which only ``purge`` raises). ``audit_head`` is the one
row every writer locks to extend the chain; ``audit_checkpoint`` holds the signed checkpoints.
Times are text, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds): the same bytes on SQLite and
PostgreSQL, hashed as stored, and ordered as text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base

HASH_HEX = 64  # SM3 digests are 32 bytes
GENESIS_HASH = "0" * HASH_HEX  # the prev_hash of record 1


class AuditRecord(Base):
    """One audited action: who (principal, org, role), what (event type, object, params), when,
    the result, and its place in the chain (seq, prev_hash, hash)."""

    __tablename__ = "audit_record"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[str] = mapped_column(String(27))
    principal: Mapped[str] = mapped_column(String(255))
    org: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(1024))
    result: Mapped[str] = mapped_column(String(16))
    params: Mapped[str] = mapped_column(Text)  # canonical JSON, secrets redacted
    request_id: Mapped[str | None] = mapped_column(String(128))
    client: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)

    __table_args__ = (
        CheckConstraint("result IN ('success', 'failure', 'refused')", name="result"),
        Index("ix_audit_record_recorded_at", "recorded_at"),
        Index("ix_audit_record_principal", "principal"),
        Index("ix_audit_record_object", "object"),
        Index("ix_audit_record_event_type", "event_type"),
    )


class AuditHead(Base):
    """The chain head: the last record's seq and hash. One row (id 1), locked by every writer."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HASH_HEX))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class AuditCheckpoint(Base):
    """A signed statement "the trail had ``seq`` records and its head hash was ``head_hash``"."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    created_at: Mapped[str] = mapped_column(String(27))
    kid: Mapped[str] = mapped_column(String(128))
    signature: Mapped[str] = mapped_column(Text)  # base64 Ed25519 signature of the canonical payload


class AuditPurgeGate(Base):
    """Records with ``seq <= through`` may be deleted (by ``purge`` only); one row (id 1)."""

    __tablename__ = "audit_purge_gate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    through: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
