"""phones: one-time activation links, phone bindings and the sign-in replay guard (kiosk serve)

Shared database only: sync never pulls these tables and they take no revision (see store/people/phone.py).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from store.timeutil import UTCDateTime

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "phoneactivation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("token_hash", AutoString(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", AutoString(), nullable=False),
        sa.Column("binding_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_phoneactivation_worker_id", "phoneactivation", ["worker_id"])
    op.create_index("ix_phoneactivation_officer_id", "phoneactivation", ["officer_id"])
# phoneactivation and phonebinding are alike by design (a link, then the phone it bound).
    op.create_table(
        "phonebinding",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_hash", AutoString(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("activation_id", sa.Uuid(), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_hash"),
    )
    op.create_index("ix_phonebinding_worker_id", "phonebinding", ["worker_id"])
    op.create_index("ix_phonebinding_officer_id", "phonebinding", ["officer_id"])
    op.create_table(
        "phonerequest",
        sa.Column("nonce_hash", AutoString(), nullable=False),
        sa.Column("binding_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash"),
    )
    op.create_index("ix_phonerequest_binding_id", "phonerequest", ["binding_id"])


def downgrade() -> None:
    op.drop_table("phonerequest")
    op.drop_table("phonebinding")
    op.drop_table("phoneactivation")
