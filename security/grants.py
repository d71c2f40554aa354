"""The data-access grants table: who may read which 重要 columns of a dataset, over which rows.

A grant is created when a data owner approves an application (数据申请 → 审批 → 授权, issue 14);
it names the dataset (``layer.table``), the grantee (an organisation, or one app), the columns it
clears, its row scope (cities, chains, enterprises — "own enterprise" is stored as that
enterprise's ids — and a period range; an empty dimension means no restriction on it), an expiry
(at most one year) and, once revoked, when. ``serving/grants.py`` reads it on every request, so a
revocation or an expiry takes effect on the next one. Lists are stored as JSON text so the table
is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base


class Grant(Base):
    __tablename__ = "data_grant"
    __table_args__ = (
        CheckConstraint("grantee_org IS NOT NULL OR grantee_app IS NOT NULL", name="grantee"),
        CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(128), index=True)  # layer.table
    grantee_org: Mapped[str | None] = mapped_column(String(64), index=True)  # identity_org.code
    grantee_app: Mapped[str | None] = mapped_column(String(64), index=True)  # identity_app.app_key
    columns: Mapped[str] = mapped_column(Text)  # JSON list of column names
    cities: Mapped[str | None] = mapped_column(Text)  # JSON list of GB/T 2260 codes; null = any
    chains: Mapped[str | None] = mapped_column(Text)  # JSON list of chain codes; null = any
    enterprises: Mapped[str | None] = mapped_column(Text)  # JSON list of enterprise ids; null = any
    period_from: Mapped[dt.date | None] = mapped_column(Date)
    period_to: Mapped[dt.date | None] = mapped_column(Date)
    purpose: Mapped[str | None] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    application_id: Mapped[int | None] = mapped_column(Integer)  # the application it approved
