"""Search the audit trail (for the security auditor; role enforcement belongs to the caller)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Select, select

from security.audit.models import AuditRecord
from security.audit.trail import utc_text
from security.db import transaction


def _match(query: Select, column, pattern: str | None) -> Select:
    """Exact match, or a prefix match when ``pattern`` ends with ``*`` (e.g. ``user:*``)."""
    if pattern is None:
        return query
    if pattern.endswith("*"):
        prefix = pattern[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return query.where(column.like(prefix + "%", escape="\\"))
    return query.where(column == pattern)


def search(
    engine: Engine,
    *,
    actor: str | None = None,
    object: str | None = None,  # the audited object's name
    event: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 1000,
) -> list[AuditRecord]:
    """Records matching every given filter, oldest first: ``actor`` (principal), ``object`` and
    ``event`` exactly or by prefix (``…*``), ``since`` ≤ time < ``until`` (aware datetimes)."""
    query = select(AuditRecord).order_by(AuditRecord.seq)
    query = _match(query, AuditRecord.principal, actor)
    query = _match(query, AuditRecord.object, object)
    query = _match(query, AuditRecord.event_type, event)
    if since is not None:
        query = query.where(AuditRecord.recorded_at >= utc_text(since))
    if until is not None:
        query = query.where(AuditRecord.recorded_at < utc_text(until))
    if limit is not None:
        query = query.limit(limit)
    with transaction(engine) as session:
        return list(session.scalars(query))
