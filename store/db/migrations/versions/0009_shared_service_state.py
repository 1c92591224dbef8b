"""the phone service's shared state in the database; server-side timeouts instead of libpq ``options``

``ratelimit`` holds each rate limit's recent hits per key (a phone, an address), so that the limits hold
across ``kiosk serve --workers N`` and several hosts behind a load balancer (issue 24, item 5).

The connection timeouts (``statement_timeout``, ``idle_in_transaction_session_timeout``: 2 min) travelled
in libpq's ``options`` startup parameter, which PgBouncer refuses and which overrode stricter per-role
settings. They become this database's defaults (``ALTER DATABASE … SET``; the migrating role's own
``ALTER ROLE … IN DATABASE … SET`` where it does not own the database), applied by the server to every new
session, through PgBouncer too; a role's own settings (a kiosk login's 60 s) still win.

Revision ID: 0009
Revises: 0008 (0007 on branch t24b alone)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from store.timeutil import UTCDateTime

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0009"
down_revision: str | None = "0008"  # "0007" on its own branch; after 0008 once merged with t24a
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMEOUTS = {"statement_timeout": "120s", "idle_in_transaction_session_timeout": "120s"}


def _set_timeouts(reset: bool) -> None:
    for name, value in TIMEOUTS.items():
        what = f"RESET {name}" if reset else f"SET {name} = ''{value}''"
        op.execute(
            f"""
            DO $$
            BEGIN
                EXECUTE format('ALTER DATABASE %I {what}', current_database());
            EXCEPTION WHEN insufficient_privilege THEN
                EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I {what}', current_database());
            END
            $$
            """
        )


def upgrade() -> None:
    op.create_table(
        "ratelimit",
        sa.Column("bucket", AutoString(), nullable=False),
        sa.Column("key", AutoString(), nullable=False),
        sa.Column("hits", AutoString(), nullable=False),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key"),
    )
    with op.batch_alter_table("ratelimit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratelimit_last_at"), ["last_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _set_timeouts(reset=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_timeouts(reset=True)
    with op.batch_alter_table("ratelimit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratelimit_last_at"))
    op.drop_table("ratelimit")
