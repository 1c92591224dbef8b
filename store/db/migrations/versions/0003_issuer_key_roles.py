"""issuer keys: the kinds of code each key may sign (``issuerkey.roles``)

``roles`` holds comma-separated Role values (``worker``, ``officer``). Existing keys keep signing both
(the server default), so nothing that verified before this migration is refused after it. A kiosk that
shows the officer's code (way A) holds a private key registered as ``officer`` only: a stolen kiosk
then cannot mint workers' codes.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issuerkey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roles", AutoString(), nullable=False, server_default="worker,officer")
        )


def downgrade() -> None:
    with op.batch_alter_table("issuerkey", schema=None) as batch_op:
        batch_op.drop_column("roles")
