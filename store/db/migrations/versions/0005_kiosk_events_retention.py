"""the kiosk's own event log (``kioskevent``) and the monthly attendance kept for wages (``attendancemonth``)

``kioskevent``: unlock and lock, project changes, camera lost and back, sync failures, clock drift,
quitting — one row per event, made on a kiosk and pushed with its attempts (store/roster/events.py). It holds
no personal value beyond the officer's id.

``attendancemonth``: when daily attendance older than ``[retention] attendance_days`` is purged, what
wages need of it (the days present of each worker, project and month) is kept here until
``[retention] wages_days`` (store/roster/retention.py).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import store.timeutil

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0005"
down_revision: str | None = "0004"
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


# A kiosk login writes nothing directly (migration 0004): its event log goes in through this function,
# its own kiosk's rows only (the login is bound to its kiosk by its first kiosk_push, earlier in the same
# batch); another kiosk's row is refused and recorded in pushrejection. Returns the rows refused.
_PG_PUSH_EVENTS = """
CREATE FUNCTION kiosk_push_events(p_kiosk uuid, p_events jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    trusted boolean := kiosk_trusted();
    me uuid := CASE WHEN trusted THEN p_kiosk ELSE kiosk_self() END;
    now_ timestamptz := now();
    n integer;
BEGIN
    IF NOT trusted AND (me IS NULL OR p_kiosk IS DISTINCT FROM me) THEN
        RAISE EXCEPTION 'login % pushes events for kiosk % only, not %', session_user, me, p_kiosk
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
    SELECT gen_random_uuid(), now_, session_user, me, 'kioskevent', e.id, 'not_own_kiosk', to_jsonb(e)::text
      FROM jsonb_populate_recordset(NULL::kioskevent, coalesce(p_events, '[]')) e
     WHERE NOT trusted AND e.kiosk_id IS DISTINCT FROM me;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO kioskevent
    SELECT r.* FROM jsonb_array_elements(coalesce(p_events, '[]')) x,
           LATERAL jsonb_populate_record(NULL::kioskevent,
                                         x || jsonb_build_object('rev', nextval('kiosk_rev'), 'updated_at', now_)) r
     WHERE trusted OR r.kiosk_id = me
    ON CONFLICT (id) DO NOTHING;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kiosk_push_events(uuid, jsonb) FROM PUBLIC;
"""


def upgrade() -> None:
    op.create_table(
        "kioskevent",
        *_stamped(),
        sa.Column("at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kiosk_id", sa.Uuid(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("kind", AutoString(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("how", AutoString(), nullable=True),
        sa.Column("reason", AutoString(), nullable=True),
        sa.Column("detail", AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kioskevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kioskevent_rev"), ["rev"], unique=False)
        batch_op.create_index("ix_kioskevent_project_at", ["project_id", "at"], unique=False)
        batch_op.create_index("ix_kioskevent_kiosk_at", ["kiosk_id", "at"], unique=False)

    op.create_table(
        "attendancemonth",
        *_stamped(),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("days", AutoString(), nullable=False),
        sa.Column("days_present", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "project_id", "month", name="uq_attendancemonth"),
    )
    with op.batch_alter_table("attendancemonth", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendancemonth_rev"), ["rev"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendancemonth_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendancemonth_month"), ["month"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_PUSH_EVENTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kiosk_push_events(uuid, jsonb)")
    op.drop_table("attendancemonth")
    op.drop_table("kioskevent")
