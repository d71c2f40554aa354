"""The delivery outbox's table (Alembic revision ``0003_delivery``): the state of every package.

States: ``pending`` (built, never tried) → ``sending`` (leased by one sender) → ``acknowledged``
(a receipt whose payload hash matches) | ``retrying`` (a transient failure; ``next_attempt_at``)
| ``dead_letter`` (attempts or window exhausted, or a permanent refusal; an operator resends) ;
``superseded`` when newer content for the same period was built before this revision went out,
or the recipient already holds a newer revision. The row's ``id`` is the idempotency key the
recipient dedupes by; a resend keeps it. Logic lives in ``serving/deliveries``.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base

STATES = ("pending", "sending", "retrying", "acknowledged", "dead_letter", "superseded")


class DeliveryPackage(Base):
    """One package: recipient × dataset × period × revision, where its files are, and its state."""

    __tablename__ = "delivery_package"
    __table_args__ = (
        UniqueConstraint("recipient", "dataset", "period", "revision", name="uq_delivery_package_revision"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    payload_uri: Mapped[str] = mapped_column(String(1024))
    manifest_uri: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[str | None] = mapped_column(String(27))
    next_attempt_at: Mapped[str | None] = mapped_column(String(27))
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[str | None] = mapped_column(String(27))
    receipt: Mapped[str | None] = mapped_column(Text)  # the recipient's receipt, JSON as received
    acknowledged_at: Mapped[str | None] = mapped_column(String(27))
    created_at: Mapped[str] = mapped_column(String(27))
    updated_at: Mapped[str] = mapped_column(String(27))
