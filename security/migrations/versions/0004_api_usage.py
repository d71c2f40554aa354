"""Request counters of the data service (rate limit and daily quota per principal, issue 14).

Revision ID: 0004_api_usage
Revises: 0003_grants
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_api_usage"
down_revision = "0003_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_usage",
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("window", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("principal", "window", name=op.f("pk_api_usage")),
    )
    op.create_index("ix_api_usage_expires", "api_usage", ["expires"])


def downgrade() -> None:
    op.drop_table("api_usage")
