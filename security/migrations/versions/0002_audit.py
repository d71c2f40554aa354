"""The audit trail: records, chain head, signed checkpoints, purge gate, and append-only triggers.

Revision ID: 0002_audit
Revises: 0001_base

Why triggers: no code path updates or deletes an audit record, and the database refuses it too
(UPDATE always; DELETE only of records at or below the purge gate, which only
``security.audit.purge`` raises; TRUNCATE on PostgreSQL). An attacker with database access can
still drop a trigger — the hash chain and the signed checkpoints are what detect that.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_base"
branch_labels = ("audit",)
depends_on = None

GENESIS = "0" * 64

POSTGRES_UP = [
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_record'
         AND OLD.seq <= (SELECT through FROM audit_purge_gate WHERE id = 1) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
    END $$
    """,
    """
    CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE FUNCTION audit_purge(cut bigint) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE removed bigint;
    BEGIN
      UPDATE audit_purge_gate SET through = GREATEST(through, cut) WHERE id = 1;
      DELETE FROM audit_record WHERE seq <= cut;
      GET DIAGNOSTICS removed = ROW_COUNT;
      RETURN removed;
    END $$
    """,
]
POSTGRES_DOWN = [
    "DROP FUNCTION IF EXISTS audit_purge(bigint)",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
    "DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record",
    "DROP FUNCTION IF EXISTS audit_append_only()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
    BEGIN SELECT RAISE(ABORT, 'audit_record is append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
    WHEN OLD.seq > (SELECT through FROM audit_purge_gate WHERE id = 1)
    BEGIN SELECT RAISE(ABORT, 'audit_record is append-only (DELETE refused)'); END
    """,
    """
    CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only (DELETE refused)'); END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
    "DROP TRIGGER IF EXISTS audit_record_no_delete",
    "DROP TRIGGER IF EXISTS audit_record_no_update",
]


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("org", sa.String(255), nullable=True),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("object", sa.String(1024), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("client", sa.String(255), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("result IN ('success', 'failure', 'refused')", name="result"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_record")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_record_hash")),
    )
    for column in ("recorded_at", "principal", "object", "event_type"):
        op.create_index(f"ix_audit_record_{column}", "audit_record", [column])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("kid", sa.String(128), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoint")),
    )
    op.create_table(
        "audit_purge_gate",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("through", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purge_gate")),
    )
    op.execute(sa.text(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))
    op.execute(sa.text("INSERT INTO audit_purge_gate (id, through) VALUES (1, 0)"))
    statements = POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(sa.text(statement))


def downgrade() -> None:
    statements = POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(sa.text(statement))
    for table in ("audit_purge_gate", "audit_checkpoint", "audit_head", "audit_record"):
        op.drop_table(table)
