"""sync: NOTIFY kiosk_sync on every revision (PostgreSQL), and an identity for each database

Every insert or update of revisioned data moves the counter row ``synccounter 'rev'`` (store/db/revision.py),
so one trigger on that row tells listening kiosks and the roster that something changed, whoever wrote it
(a kiosk's push, the admin revoking a key, a way-A sign-in). The notification is delivered at commit.
SQLite has no NOTIFY: listeners poll the counter instead (store/sync/live.py).

``syncstate 'db.id'`` names the database, so a kiosk pointed at another shared database starts its
cursors afresh instead of trusting revisions of a different counter (store/sync/state.py).

Revision ID: 0002
Revises: 0001
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "kiosk_sync"


def upgrade() -> None:
    op.execute(
        sa.text("INSERT INTO syncstate (key, value) VALUES ('db.id', :v)").bindparams(v=str(uuid.uuid4()))
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION kiosk_sync_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.value::text);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER synccounter_notify AFTER INSERT OR UPDATE ON synccounter "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_sync_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS synccounter_notify ON synccounter")
        op.execute("DROP FUNCTION IF EXISTS kiosk_sync_notify()")
    op.execute("DELETE FROM syncstate WHERE key = 'db.id'")
