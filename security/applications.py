"""数据申请 → 审批 → 授权: applications for data access, notices to consumers, data objections.

Tables of the workflow whose rules live in ``serving/portal/access.py`` (issue 14): an
application names a dataset, the 重要 columns asked for, the purpose, a row scope (cities, chains,
the applicant enterprise's own ids, a period range) and an expiry; the dataset owner's group
decides it, and an approval writes the ``data_grant`` row (``security/grants.py``) whose
``application_id`` points back here. A notice tells a consumer (an organisation, or one app) what
happened to its application or grant (approved, rejected, renewed, revoked) or to its objection
(answered). An objection (数据异议) is an enterprise's challenge of one of its own records; a data
engineer answers it (``ibrain review answer``). Lists are JSON text, as in ``data_grant``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base

APPLICATION_STATUSES = ("pending", "approved", "rejected")
OBJECTION_STATUSES = ("open", "corrected", "unchanged")


class DataApplication(Base):
    __tablename__ = "data_application"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(128), index=True)  # layer.table
    applicant: Mapped[str] = mapped_column(String(80), index=True)  # user:<login> | app:<key>
    applicant_org: Mapped[str] = mapped_column(String(64), index=True)  # identity_org.code
    grantee_app: Mapped[str | None] = mapped_column(String(64))  # set when an app applied
    columns: Mapped[str] = mapped_column(Text)  # JSON list
    purpose: Mapped[str] = mapped_column(Text)
    cities: Mapped[str | None] = mapped_column(Text)  # JSON list; null = any
    chains: Mapped[str | None] = mapped_column(Text)
    own_enterprise: Mapped[bool] = mapped_column(default=False)
    enterprises: Mapped[str | None] = mapped_column(Text)  # the own enterprise's ids (resolved)
    period_from: Mapped[dt.date | None] = mapped_column(Date)
    period_to: Mapped[dt.date | None] = mapped_column(Date)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[int | None] = mapped_column(Integer)


class DataNotice(Base):
    """A message to a consumer: shown in the portal and by ``GET /v1/me/notices``."""

    __tablename__ = "data_notice"
    __table_args__ = (
        CheckConstraint("recipient_org IS NOT NULL OR recipient_app IS NOT NULL", name="recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_org: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_app: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # approved|rejected|renewed|revoked|objection_answered
    dataset: Mapped[str | None] = mapped_column(String(128))
    application_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer)
    objection_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DataObjection(Base):
    """数据异议: an enterprise disputes one of its own records (dataset + primary-key values)."""

    __tablename__ = "data_objection"
    __table_args__ = (CheckConstraint("status IN ('open', 'corrected', 'unchanged')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org: Mapped[str] = mapped_column(String(64), index=True)
    filed_by: Mapped[str] = mapped_column(String(80))
    dataset: Mapped[str] = mapped_column(String(128))
    record_key: Mapped[str] = mapped_column(Text)  # JSON object: primary-key column → value
    column_name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(80))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
