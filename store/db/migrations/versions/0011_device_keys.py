"""device keys: the public key each worker's phone makes at binding, which signs its codes offline

``devicekey`` (kid, worker_id, binding_id, public_key, alg, revoked_at, and the reference columns) is
revisioned and pulled to kiosks like ``issuerkey``: a kiosk verifies a phone-signed code with the key
of that worker's phone, and a revoked binding (or a deleted worker) stops the code at the next sync.

Revision ID: 0011
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from store.timeutil import UTCDateTime

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp_xid(table: str) -> None:
    """PostgreSQL: the row's writing transaction (``xid``, stamped by 0008's ``kiosk_stamp_xid``), by which
    a kiosk's pull through the service is commit-ordered (store/sync/exchange.py ``Window``)."""
    op.execute(f"ALTER TABLE {table} ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute(
        f"CREATE TRIGGER {table}_stamp_xid BEFORE INSERT OR UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_stamp_xid()"
    )
    op.execute(f"CREATE INDEX ix_{table}_xid ON {table} (xid)")


def upgrade() -> None:
    op.create_table(
        "devicekey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("kid", AutoString(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("binding_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("alg", AutoString(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("devicekey", schema=None) as batch_op:
        for column in ("rev", "kid", "worker_id", "binding_id"):
            batch_op.create_index(batch_op.f(f"ix_devicekey_{column}"), [column], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _stamp_xid("devicekey")


def downgrade() -> None:
    op.drop_table("devicekey")
