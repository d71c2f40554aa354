"""Data-access grants (issue 14): dataset, grantee, columns, row scope, period, expiry, revocation.

Revision ID: 0003_grants
Revises: 0003_delivery (which merged 0002_audit and 0002_identity)
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_grants"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_grant",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("grantee_org", sa.String(64)),
        sa.Column("grantee_app", sa.String(64)),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("cities", sa.Text),
        sa.Column("chains", sa.Text),
        sa.Column("enterprises", sa.Text),
        sa.Column("period_from", sa.Date),
        sa.Column("period_to", sa.Date),
        sa.Column("purpose", sa.Text),
        sa.Column("granted_by", sa.String(80), nullable=False),
        sa.Column("granted_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN),
        sa.Column("application_id", sa.Integer),
        sa.CheckConstraint("grantee_org IS NOT NULL OR grantee_app IS NOT NULL", name="grantee"),
        sa.CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
    )
    for column in ("dataset", "grantee_org", "grantee_app"):
        op.create_index(f"ix_data_grant_{column}", "data_grant", [column])


def downgrade() -> None:
    op.drop_table("data_grant")
