"""Alerts sent to webhooks: one row per (rule, event, webhook) — the dedupe key (issue 16).

Revision ID: 0006_alerts
Revises: 0005_applications

Why in the state database: an event must be posted once, whichever sensor tick or process sees
it; the row is claimed (primary key) before the POST and marked sent after it, in transactions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_alerts"
down_revision = "0005_applications"
branch_labels = ("alerts",)
depends_on = None

WHEN = sa.String(27)  # UTC text, fixed width, ordered as text (as the audit trail)


def upgrade() -> None:
    op.create_table(
        "alert_delivery",
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(300), nullable=False),
        sa.Column("webhook", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
        sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_alert_delivery")),
    )
    op.create_index("ix_alert_delivery_created_at", "alert_delivery", ["created_at"])


def downgrade() -> None:
    op.drop_table("alert_delivery")
