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


def downgrade() -> None:
    op.drop_table("devicekey")
