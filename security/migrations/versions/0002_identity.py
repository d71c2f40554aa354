"""Identity: organisations, users, apps, groups, role assignments and login sessions.

Revision ID: 0002_identity
Revises: 0001_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_identity"
down_revision = "0001_base"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identity_org",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("uscc", sa.String(18)),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("type IN ('gov_bureau', 'enterprise', 'platform')", name="type"),
        sa.CheckConstraint("type <> 'enterprise' OR uscc IS NOT NULL", name="enterprise_uscc"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("uscc"),
    )
    for table, secret in (("identity_user", "password_hash"), ("identity_app", "secret_hash")):
        name = "login" if table == "identity_user" else "app_key"
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(name, sa.String(64), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("org_id", sa.Integer, sa.ForeignKey("identity_org.id"), nullable=False),
            sa.Column(secret, sa.String(200), nullable=False),
            sa.Column("disabled", sa.Boolean, nullable=False),
            sa.Column("failed_attempts", sa.Integer, nullable=False),
            sa.Column("locked_until", WHEN),
            sa.Column("created_at", WHEN, nullable=False),
            sa.UniqueConstraint(name),
        )
    op.create_table(
        "identity_group",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "identity_group_member",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("identity_group.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("identity_user.id"), primary_key=True),
    )
    op.create_table(
        "identity_role",
        sa.Column("principal", sa.String(80), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("granted_by", sa.String(80), nullable=False),
        sa.Column("granted_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "role IN ('system_admin', 'security_auditor', 'data_owner', 'data_engineer', 'consumer')",
            name="role",
        ),
    )
    op.create_table(
        "identity_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(80), nullable=False),
        sa.Column("auth_time", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN),
        sa.UniqueConstraint("sid"),
    )
    op.create_index("ix_identity_session_principal", "identity_session", ["principal"])


def downgrade() -> None:
    op.drop_index("ix_identity_session_principal", "identity_session")
    for table in (
        "identity_session",
        "identity_role",
        "identity_group_member",
        "identity_group",
        "identity_app",
        "identity_user",
        "identity_org",
    ):
        op.drop_table(table)
