"""The empty base every branch of the security schema starts from.

Revision ID: 0001_base
Revises:
"""

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the tables come in the revisions that follow."""


def downgrade() -> None:
    """Nothing."""
