"""The grant check: which 重要 columns of a dataset a caller sees in clear, and over which rows.

One function, ``grants_for``, reads the grants table (``security/grants.py``) on every request,
so an approval, a revocation or an expiry takes effect on the next request. The row scope it
returns is turned into a SQL predicate by the query (serving/engine.py) — the scope is part of the
query, never a filter applied afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from security.grants import Grant


@dataclass(frozen=True)
class GrantScope:
    """One live grant: the columns it clears and its row scope (None = no restriction on that
    dimension; an empty tuple = no row at all)."""

    grant_id: int
    columns: frozenset[str]
    cities: tuple[str, ...] | None = None
    chains: tuple[str, ...] | None = None
    enterprises: tuple[str, ...] | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None

    def summary(self) -> dict[str, object]:
        """The scope as recorded in the audit trail."""
        scope: dict[str, object] = {"grant": self.grant_id, "columns": sorted(self.columns)}
        for name in ("cities", "chains", "enterprises"):
            if getattr(self, name) is not None:
                scope[name] = list(getattr(self, name))
        if self.period_from or self.period_to:
            scope["period"] = [str(self.period_from or ""), str(self.period_to or "")]
        return scope


def _list(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    values = json.loads(text)
    if not isinstance(values, list):
        raise ValueError(f"grant scope {text!r}: expected a JSON list")
    return tuple(str(v) for v in values)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def grants_for(
    session: Session, *, principal: str, org: str | None, dataset: str, now: dt.datetime
) -> tuple[GrantScope, ...]:
    """The live grants (not revoked, not expired) of ``dataset`` held by the app ``principal``
    names or by its organisation ``org``; empty when there is none (everything 重要 is masked)."""
    grantee = []
    if principal.startswith("app:"):
        grantee.append(Grant.grantee_app == principal.split(":", 1)[1])
    if org:
        grantee.append(Grant.grantee_org == org)
    if not grantee:
        return ()
    rows = session.scalars(
        select(Grant)
        .where(Grant.dataset == dataset, Grant.revoked_at.is_(None), or_(*grantee))
        .order_by(Grant.id)
    ).all()
    return tuple(
        GrantScope(
            grant_id=row.id,
            columns=frozenset(_list(row.columns) or ()),
            cities=_list(row.cities),
            chains=_list(row.chains),
            enterprises=_list(row.enterprises),
            period_from=row.period_from,
            period_to=row.period_to,
        )
        for row in rows
        if _aware(row.expires_at) > now
    )
