"""phone device keys travel through the site service's pull: ``devicekey.xid`` on PostgreSQL

Kiosks pull through the service (issue 24) with commit-ordered windows on PostgreSQL: every pulled table
carries its writer's transaction id (``xid``, 0008's trigger function ``kiosk_stamp_xid``). ``devicekey``
(0011, issue 27) came after 0008 and had none, so a pull through the service failed on PostgreSQL.
Nothing changes on SQLite (its pulls go by ``rev``).

Revision ID: 0014
Revises: 0012 (issue 24 follow-up, t24c; the lead rechains at merge)
"""

from collections.abc import Sequence

from alembic import op

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE devicekey ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute(
        "CREATE TRIGGER devicekey_stamp_xid BEFORE INSERT OR UPDATE ON devicekey "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_stamp_xid()"
    )
    op.execute("CREATE INDEX ix_devicekey_xid ON devicekey (xid)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS devicekey_stamp_xid ON devicekey")
    op.execute("ALTER TABLE devicekey DROP COLUMN IF EXISTS xid")
