"""The delivery outbox: one row per package (recipient × dataset × period × revision).

Revision ID: 0003_delivery
Revises: 0002_audit, 0002_identity (merges the heads on main when it was written)

Why in the state database: a package's state changes (leased, attempted, acknowledged) must
commit together with the audit record of that change, and two senders must never hold the same
package at once (a conditional UPDATE on the lease columns). The payloads themselves are files in
the lake under ``exchange/``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery"
down_revision = ("0002_audit", "0002_identity")
branch_labels = ("delivery",)
depends_on = None

WHEN = sa.String(27)  # UTC text, fixed width, ordered as text (as the audit trail)
STATES = ("pending", "sending", "retrying", "acknowledged", "dead_letter", "superseded")


def upgrade() -> None:
    op.create_table(
        "delivery_package",
        sa.Column("id", sa.String(200), primary_key=True),  # the idempotency key, kept on resend
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("supersedes", sa.Integer),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("payload_uri", sa.String(1024), nullable=False),
        sa.Column("manifest_uri", sa.String(1024), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_attempt_at", WHEN),
        sa.Column("next_attempt_at", WHEN),
        sa.Column("last_error", sa.Text),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", WHEN),
        sa.Column("receipt", sa.Text),
        sa.Column("acknowledged_at", WHEN),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})", name="state"),
        sa.CheckConstraint("revision >= 1", name="revision"),
        sa.UniqueConstraint(
            "recipient", "dataset", "period", "revision", name="uq_delivery_package_revision"
        ),
    )
    op.create_index("ix_delivery_package_state", "delivery_package", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_package_state", "delivery_package")
    op.drop_table("delivery_package")
