"""health checks declared on the phone wait for review: ``healthchecksubmission``

A worker's own 健康体检 (institution or 其他 with its name, date, result, the report photo) waits as
待审核 until an administrator approves it (it then becomes a ``healthcheck`` with its ``healthreport``)
or rejects it with a reason. Shared database only, like the other submissions of 0007.

Revision ID: 0012
Revises: 0007 (issue 27, t27b; the lead rechains at merge)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.timeutil

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "healthchecksubmission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("submitted_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", store.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", AutoString(), nullable=True),
        sa.Column("reject_reason", AutoString(), nullable=True),
        sa.Column("institution_id", sa.Uuid(), nullable=True),
        sa.Column("institution_other", AutoString(), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("report_image", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["healthinstitution.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("healthchecksubmission", schema=None) as batch_op:
        for column in ("rev", "worker_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_healthchecksubmission_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("healthchecksubmission")
