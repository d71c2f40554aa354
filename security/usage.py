"""Request counters of the data service: a per-principal rate limit and a daily quota.

Kept in the state database so every worker process shares them (issue 14: limits). Each counter
row is (principal, window); ``count_request`` increments it with one upsert in the caller's
transaction — the same transaction that writes the read's audit record.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from security.db import Base


class ApiUsage(Base):
    __tablename__ = "api_usage"

    principal: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[str] = mapped_column(String(32), primary_key=True)  # m:<epoch minute> | d:<UTC date>
    count: Mapped[int] = mapped_column(Integer)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch second the window ends


def current_count(session: Session, principal: str, window: str) -> int:
    found = session.scalar(
        select(ApiUsage.count).where(ApiUsage.principal == principal, ApiUsage.window == window)
    )
    return int(found or 0)


def count_request(session: Session, principal: str, window: str, expires: int) -> int:
    """Add one request to ``principal``'s ``window`` and return the new count (atomic upsert)."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = insert(ApiUsage).values(principal=principal, window=window, count=1, expires=expires)
    statement = statement.on_conflict_do_update(
        index_elements=["principal", "window"], set_={"count": ApiUsage.count + 1}
    ).returning(ApiUsage.count)
    return int(session.execute(statement).scalar_one())
