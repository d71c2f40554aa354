"""The alerts' table (Alembic revision ``0006_alerts``): what was posted to which webhook.

``dedupe_key`` = rule × event × webhook: claimed (state ``sending``) before the POST, so an event
goes out once however many sensor ticks or processes see it; ``sent`` after a 2xx, ``failed``
(with the error) when retries are exhausted — a failed one is tried again on a later evaluation.
Logic lives in ``serving/alerts``.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base

STATES = ("sending", "sent", "failed")


class AlertDelivery(Base):
    __tablename__ = "alert_delivery"

    dedupe_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    event_kind: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(300))
    webhook: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the JSON body posted
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(27), index=True)
    sent_at: Mapped[str | None] = mapped_column(String(27))
