"""Tables of identity: organisations, people, apps, groups, roles and login sessions.

Principals are named as in :class:`security.actor.Actor`: ``user:<login>`` and ``app:<app key>``;
role assignments and sessions refer to that name, so a person and a machine are handled alike.
Secrets are kept only as argon2 hashes (``password_hash``, ``secret_hash``), the only columns
that may hold anything derived from a secret (docs/architecture.md: security).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from security.db import Base

ORG_TYPES = ("gov_bureau", "enterprise", "platform")
ROLES = ("system_admin", "security_auditor", "data_owner", "data_engineer", "consumer")


class Organisation(Base):
    __tablename__ = "identity_org"
    __table_args__ = (
        CheckConstraint("type IN ('gov_bureau', 'enterprise', 'platform')", name="type"),
        CheckConstraint("type <> 'enterprise' OR uscc IS NOT NULL", name="enterprise_uscc"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(6))  # GB/T 2260 code
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person; logs in with a password."""

    __tablename__ = "identity_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class App(Base):
    """A machine; exchanges its AppKey + AppSecret for a short-lived token."""

    __tablename__ = "identity_app"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"))
    secret_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Group(Base):
    """A team; a contract's ``owner: team:<name>`` names one, whose members approve its data."""

    __tablename__ = "identity_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class GroupMember(Base):
    __tablename__ = "identity_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("identity_group.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("identity_user.id"), primary_key=True)


class RoleAssignment(Base):
    __tablename__ = "identity_role"
    __table_args__ = (
        CheckConstraint(
            "role IN ('system_admin', 'security_auditor', 'data_owner', 'data_engineer', 'consumer')",
            name="role",
        ),
    )

    principal: Mapped[str] = mapped_column(String(80), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A person's login: the token names it (``sid``), so idle timeout and logout are enforced."""

    __tablename__ = "identity_session"
    __table_args__ = (UniqueConstraint("sid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(80), index=True)
    auth_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
