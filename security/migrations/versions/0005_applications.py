"""数据申请 → 审批 → 授权 (issue 14): applications, notices to consumers, data objections.

Revision ID: 0005_applications
Revises: 0004_api_usage
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_applications"
down_revision = "0004_api_usage"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_application",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("applicant", sa.String(80), nullable=False),
        sa.Column("applicant_org", sa.String(64), nullable=False),
        sa.Column("grantee_app", sa.String(64)),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("cities", sa.Text),
        sa.Column("chains", sa.Text),
        sa.Column("own_enterprise", sa.Boolean, nullable=False),
        sa.Column("enterprises", sa.Text),
        sa.Column("period_from", sa.Date),
        sa.Column("period_to", sa.Date),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", WHEN),
        sa.Column("reason", sa.Text),
        sa.Column("grant_id", sa.Integer),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        sa.CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to", name="period"
        ),
    )
    for column in ("dataset", "applicant", "applicant_org"):
        op.create_index(f"ix_data_application_{column}", "data_application", [column])
    op.create_table(
        "data_notice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("recipient_org", sa.String(64)),
        sa.Column("recipient_app", sa.String(64)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dataset", sa.String(128)),
        sa.Column("application_id", sa.Integer),
        sa.Column("grant_id", sa.Integer),
        sa.Column("objection_id", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("recipient_org IS NOT NULL OR recipient_app IS NOT NULL", name="recipient"),
    )
    for column in ("recipient_org", "recipient_app"):
        op.create_index(f"ix_data_notice_{column}", "data_notice", [column])
    op.create_table(
        "data_objection",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("filed_by", sa.String(80), nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("record_key", sa.Text, nullable=False),
        sa.Column("column_name", sa.String(64)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("filed_at", WHEN, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("answered_by", sa.String(80)),
        sa.Column("answered_at", WHEN),
        sa.CheckConstraint("status IN ('open', 'corrected', 'unchanged')", name="status"),
    )
    op.create_index("ix_data_objection_org", "data_objection", ["org"])
    op.create_index("ix_data_objection_status", "data_objection", ["status"])


def downgrade() -> None:
    op.drop_table("data_objection")
    op.drop_table("data_notice")
    op.drop_table("data_application")
