"""出场: departures (``departure``), one per worker, project and work date, and their push function

``departure`` holds when a worker left a project on a work date: scanned at a kiosk (``scan``), by phone
(``phone``, way A), closed at the project's close time (``auto``, 自动签退) or corrected by a supervisor
(``manual``, 补录, with the reason in ``note`` and who in ``actor``). ``no_entry`` flags a departure with
no entry that day. The entry of the day stays the ``attendance`` row.

PostgreSQL: a kiosk login writes nothing itself (migration 0004); its departures go in through
``kiosk_push_departures`` — its own kiosk's rows only, never a ``manual`` one — and one departure a day
stays: a correction (``manual``) first, else the earliest ``at`` (then the id), so a departure scanned
offline before the close replaces the automatic one when it arrives, and nothing is ever doubled.

Revision ID: 0010
Revises: 0007 (t25's branch; the lead rechains at merge)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.timeutil

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0010"
down_revision: str | None = "0009"
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


# One departure a day: the held row is replaced only by one that ranks before it (a correction first,
# then the earlier time, then the smaller id). Returns the rows refused (kept in pushrejection).
_PG_PUSH_DEPARTURES = """
CREATE FUNCTION kiosk_push_departures(p_kiosk uuid, p_rows jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    trusted boolean := kiosk_trusted();
    me uuid := CASE WHEN trusted THEN p_kiosk ELSE kiosk_self() END;
    now_ timestamptz := now();
    n integer;
    r departure;
    held departure;
BEGIN
    IF NOT trusted AND (me IS NULL OR p_kiosk IS DISTINCT FROM me) THEN
        RAISE EXCEPTION 'login % pushes departures for kiosk % only, not %', session_user, me, p_kiosk
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
    SELECT gen_random_uuid(), now_, session_user, me, 'departure', d.id,
           CASE WHEN d.kiosk_id IS DISTINCT FROM me THEN 'not_own_kiosk' ELSE 'manual_from_kiosk' END,
           to_jsonb(d)::text
      FROM jsonb_populate_recordset(NULL::departure, coalesce(p_rows, '[]')) d
     WHERE NOT trusted AND (d.kiosk_id IS DISTINCT FROM me OR d.method = 'manual');
    GET DIAGNOSTICS n = ROW_COUNT;
    FOR r IN
        SELECT * FROM jsonb_populate_recordset(NULL::departure, coalesce(p_rows, '[]')) d
         WHERE trusted OR (d.kiosk_id = me AND d.method <> 'manual')
         ORDER BY (d.method = 'manual') DESC, d.at, d.id
    LOOP
        SELECT * INTO held FROM departure
         WHERE worker_id = r.worker_id AND project_id = r.project_id AND work_date = r.work_date
         FOR UPDATE;
        IF FOUND THEN
            CONTINUE WHEN held.id = r.id;
            CONTINUE WHEN ((held.method = 'manual') > (r.method = 'manual'))
                OR ((held.method = 'manual') = (r.method = 'manual') AND (held.at, held.id) <= (r.at, r.id));
            DELETE FROM departure WHERE id = held.id;
        END IF;
        r.rev := nextval('kiosk_rev');
        r.updated_at := now_;
        INSERT INTO departure SELECT r.* ON CONFLICT DO NOTHING;
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kiosk_push_departures(uuid, jsonb) FROM PUBLIC;
"""


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
        "departure",
        *_stamped(),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", AutoString(), nullable=False),
        sa.Column("kiosk_id", sa.Uuid(), nullable=True),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("attempt_id", sa.Uuid(), nullable=True),
        sa.Column("no_entry", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("note", AutoString(), nullable=True),
        sa.Column("actor", AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "project_id", "work_date", name="uq_departure_day"),
    )
    with op.batch_alter_table("departure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departure_rev"), ["rev"], unique=False)
        batch_op.create_index("ix_departure_project_day", ["project_id", "work_date"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_PUSH_DEPARTURES)
        _stamp_xid("departure")
        op.execute("CREATE INDEX ix_departure_project_xid ON departure (project_id, xid)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kiosk_push_departures(uuid, jsonb)")
    op.drop_table("departure")
