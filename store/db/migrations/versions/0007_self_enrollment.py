"""self-enrollment: what workers submit from their phones, waiting for review, and health-check reports

``realnamesubmission`` (个人信息采集: ID card front and back, face photo, the name typed) and
``bankcardsubmission`` (银行卡) hold a worker's own submission until an administrator approves or
rejects it (``status`` pending / approved / rejected / superseded, with who, when and the reason the
worker sees). ``healthreport`` holds the photo of a health-check report. All three live in the shared
database only: sync never pulls them and the kiosk role has no right on them.

Revision ID: 0007
Revises: 0006 (reserved as 0003's child; chained after 0006 here since this branch merged issue-13)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.timeutil

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Copied, not imported, in each migration that needs it: frozen history (README.md).
def _stamped() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
    ]


def _submission() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        *_stamped(),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("submitted_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", store.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", AutoString(), nullable=True),
        sa.Column("reject_reason", AutoString(), nullable=True),
    ]


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in ("rev", *columns):
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "realnamesubmission",
        *_submission(),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("front_image", sa.LargeBinary(), nullable=True),
        sa.Column("back_image", sa.LargeBinary(), nullable=True),
        sa.Column("face_photo", sa.LargeBinary(), nullable=True),
        sa.Column("face_thumb", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("realnamesubmission", "worker_id", "status")
# Each submission table is spelled out, as the schema stood at 0007 (README.md).
    op.create_table(
        "bankcardsubmission",
        *_submission(),
        sa.Column("bank_name", AutoString(), nullable=False),
        sa.Column("card_number", AutoString(), nullable=True),
        sa.Column("card_masked", AutoString(), nullable=False),
        sa.Column("luhn_ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("bankcardsubmission", "worker_id", "status")
    op.create_table(
        "healthreport",
        *_stamped(),
        sa.Column("health_check_id", sa.Uuid(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["health_check_id"], ["healthcheck.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("healthreport", "health_check_id")


def downgrade() -> None:
    for table in ("healthreport", "bankcardsubmission", "realnamesubmission"):
        op.drop_table(table)
