"""Write the audit trail: one hash-chained record in the caller's transaction.

Why in the caller's transaction: the record and the action it records commit together or not
at all — if the record cannot be written, the action fails with it (issue 13; docs/architecture.md:
security). Why a chain: each record's SM3 hash covers every field, its sequence number and the
previous record's hash, so an edited, deleted, reordered or inserted record breaks the chain where
it happened (``security.audit.verify``). Writers serialise on the one-row chain head: a row lock
(``SELECT … FOR UPDATE``) on PostgreSQL; on SQLite every transaction already begins IMMEDIATE
(``security.db``), which holds the database's write lock from the start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import select
from sqlalchemy.orm import Session

from security.actor import Actor
from security.audit.events import EVENT_TYPES, RESULTS
from security.audit.models import AuditHead, AuditRecord

# Keys whose values are secrets wherever they appear in params (case-insensitive substring).
SECRET_KEY = re.compile(r"password|passwd|secret|token|key", re.IGNORECASE)
REDACTED = "[redacted]"
CANONICAL_VERSION = 1
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditError(ValueError):
    """An audit record was refused (unknown event type, bad result) or the trail is not set up."""


def utc_now() -> datetime:
    """The trail's clock (UTC); one function so tests can set the time of records and purges."""
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """``moment`` as stored in the trail: UTC, microseconds, ``Z`` (fixed width, orders as text)."""
    if moment.tzinfo is None:
        raise AuditError(f"naive datetime {moment!r}: audit times are UTC-aware")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def redact(value: Any) -> Any:
    """``value`` with every mapping entry whose key names a secret replaced by ``[redacted]``
    (recursively, through mappings and lists)."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if SECRET_KEY.search(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [redact(item) for item in items]
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 characters as themselves."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def normalise_params(params: Mapping[str, Any] | None) -> str:
    """The params as stored and hashed: redacted, then canonical JSON (non-JSON values as text)."""
    redacted = redact(dict(params or {}))
    # Round trip so what is hashed is exactly what verify reads back (e.g. a date becomes its text).
    return canonical_json(json.loads(json.dumps(redacted, default=str, allow_nan=False)))


def record_payload(record: AuditRecord) -> bytes:
    """The canonical serialisation of every field of ``record`` but its own hash."""
    document = {
        "v": CANONICAL_VERSION,
        "seq": record.seq,
        "recorded_at": record.recorded_at,
        "principal": record.principal,
        "org": record.org,
        "role": record.role,
        "event_type": record.event_type,
        "object": record.object,
        "result": record.result,
        "params": json.loads(record.params),
        "request_id": record.request_id,
        "client": record.client,
        "details": record.details,
        "prev_hash": record.prev_hash,
    }
    return canonical_json(document).encode("utf-8")


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def record_hash(record: AuditRecord) -> str:
    """SM3 of the record's canonical serialisation (hex)."""
    return sm3_hex(record_payload(record))


def lock_head(session: Session) -> AuditHead:
    """The chain head, locked until the caller's transaction ends (FOR UPDATE; a no-op on SQLite,
    whose immediate transaction already holds the write lock)."""
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        raise AuditError("the audit trail has no chain head: run the state database's migrations")
    return head


def record(
    session: Session,
    *,
    actor: Actor,
    event_type: str,
    object: str,  # the audited object's name (a table, an account, a batch …)
    result: str,
    params: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    client: str | None = None,
    details: str | None = None,
) -> AuditRecord:
    """Append one audit record in ``session``'s transaction and return it.

    Refuses an unknown ``event_type`` (``security.audit.events``) or a ``result`` other than
    success / failure / refused. Secrets in ``params`` are redacted before hashing and storing.
    """
    if event_type not in EVENT_TYPES:
        raise AuditError(f"unknown audit event type {event_type!r} (see security/audit/events.py)")
    if result not in RESULTS:
        raise AuditError(f"audit result {result!r}: expected one of {', '.join(RESULTS)}")
    if not isinstance(actor, Actor):
        raise AuditError(f"an audit record needs an Actor, got {type(actor).__name__}")
    if not object:
        raise AuditError("an audit record needs the object acted on")
    params_text = normalise_params(params)
    head = lock_head(session)
    entry = AuditRecord(
        seq=head.seq + 1,
        recorded_at=utc_text(utc_now()),
        principal=actor.principal,
        org=actor.org,
        role=actor.role,
        event_type=event_type,
        object=object,
        result=result,
        params=params_text,
        request_id=request_id,
        client=client,
        details=details,
        prev_hash=head.hash,
    )
    entry.hash = record_hash(entry)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry
