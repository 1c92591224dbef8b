"""shared database hardening: a kiosk writes only its own rows, revisions from a sequence

Both dialects:

- ``pushrejection``: rows a kiosk pushed that the shared database refused, with the reason;
- ``kiosklogin``: which kiosk a PostgreSQL login pushes for (one login, one kiosk);
- a trigger refusing to move the ``synccounter`` row backwards (SQLite keeps its counter row);
- masked ID numbers show the last 4 characters only (``**************1234``, store/rules/validation.py).

PostgreSQL only (store/db/revision.py, store/sync/push.py, store/sync/roles.py):

- revisions come from the sequence ``kiosk_rev`` (taken by ``kiosk_take_revisions(n)``), so writers
  never queue on one row lock; each writing transaction marks the lowest revision it holds with a
  transaction advisory lock, and ``kiosk_safe_revision()`` returns the highest revision below which
  every transaction has ended: a pull never steps past a revision that may still commit;
- ``kiosk_push(...)``: the one way a kiosk login writes (SECURITY DEFINER): its own kiosk id only,
  attendance only with the attempt behind it in the same batch, first sign-in times checked, the
  earliest-wins rule applied here, refused rows recorded in ``pushrejection``;
- gate photos under row-level security: a kiosk login reads the photos of its own attempts only.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.timeutil

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "kiosk_sync"
#: advisory lock keys (see store/db/revision.py): the writer's mark (two int4 keys) and the tag of the
#: bigint key that carries a writer's lowest revision in its low 48 bits
MARK = 1263751766
REV_TAG = 19283
#: a first sign-in time a kiosk login may push: at most this far ahead of the shared clock / behind it
FUTURE_SKEW = "5 minutes"
MAX_AGE = "7 days"
#: a kiosk login's transaction holding a revision longer than this is ended (its timeouts were lifted)
STALE_HOLD = "2 minutes"

_PG_FUNCTIONS = f"""
CREATE FUNCTION kiosk_trusted() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
        OR pg_has_role(session_user, current_user, 'MEMBER')
$$;

CREATE FUNCTION kiosk_self() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT kiosk_id FROM kiosklogin WHERE role_name = session_user
$$;

CREATE FUNCTION kiosk_take_revisions(n integer) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    first_rev bigint;
    last_rev bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({MARK}, 0);
    first_rev := nextval('kiosk_rev');
    PERFORM pg_advisory_xact_lock_shared(({REV_TAG}::bigint << 48) | first_rev);
    IF n > 1 THEN
        SELECT max(v) INTO last_rev FROM (SELECT nextval('kiosk_rev') AS v FROM generate_series(2, n)) s;
    ELSE
        last_rev := first_rev;
    END IF;
    PERFORM pg_notify('{CHANNEL}', last_rev::text);
    RETURN last_rev;
END
$$;

CREATE FUNCTION kiosk_safe_revision() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    s bigint;
    called boolean;
    lowest bigint;
    pending integer;
    stale integer[];
    tries integer := 0;
BEGIN
    LOOP
        SELECT last_value, is_called INTO s, called FROM kiosk_rev;
        IF NOT called THEN
            s := s - 1;
        END IF;
        WITH l AS MATERIALIZED (
            SELECT pid, classid::bigint AS c, objid::bigint AS o, objsubid FROM pg_locks
            WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        ), holders AS (
            SELECT m.pid,
                   (SELECT min(((r.c & 65535) << 32) | r.o) FROM l r
                     WHERE r.pid = m.pid AND r.objsubid = 1 AND (r.c >> 16) = {REV_TAG}) AS low
            FROM l m WHERE m.objsubid = 2 AND m.c = {MARK} AND m.o = 0 AND m.pid <> pg_backend_pid()
        ), aged AS (
            SELECT h.*, a.xact_start < now() - interval '{STALE_HOLD}'
                        AND NOT coalesce(r.rolsuper, false) AND NOT pg_has_role(a.usename, current_user, 'MEMBER')
                        AS is_stale
            FROM holders h JOIN pg_stat_activity a ON a.pid = h.pid LEFT JOIN pg_roles r ON r.rolname = a.usename
        )
        SELECT count(*) FILTER (WHERE low IS NULL AND NOT is_stale), min(low) FILTER (WHERE NOT is_stale),
               array_agg(pid) FILTER (WHERE is_stale)
          INTO pending, lowest, stale FROM aged;
        IF stale IS NOT NULL THEN
            -- a kiosk login that lifted its own timeouts and sits on a revision: end it (its rows roll back)
            BEGIN
                PERFORM pg_terminate_backend(p, 1000) FROM unnest(stale) p;
            EXCEPTION WHEN insufficient_privilege THEN
                NULL;
            END;
        END IF;
        EXIT WHEN pending = 0 OR tries >= 200;
        tries := tries + 1;
        PERFORM pg_sleep(0.001);
    END LOOP;
    RETURN least(s, coalesce(lowest - 1, s));
END
$$;

CREATE FUNCTION kiosk_reject(p_kiosk uuid, p_table text, p_row uuid, p_reason text, p_detail jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
    VALUES (gen_random_uuid(), now(), session_user, p_kiosk, p_table, p_row, p_reason, p_detail::text)
$$;

CREATE FUNCTION kiosk_push(p_kiosk uuid, p_kiosks jsonb, p_attempts jsonb, p_photos jsonb, p_attendance jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    trusted boolean := kiosk_trusted();
    me uuid := p_kiosk;
    now_ timestamptz := now();
    acc jsonb;          -- the batch's attempts that may go in, as a JSON array
    bad jsonb;          -- refused attendance: rows and why
    bad_ids uuid[];     -- their ids
    dropped uuid[];     -- the attempts behind them
    k kiosk;
    t attendance;
    held record;
    n integer;
    rejected integer := 0;
    kw uuid[] := '{{}}';
    kp uuid[] := '{{}}';
    kd date[] := '{{}}';
    n_contested integer;
BEGIN
    IF NOT trusted THEN
        SELECT kiosk_id INTO me FROM kiosklogin WHERE role_name = session_user;
        IF me IS NULL THEN  -- the login's first push binds it to the kiosk it pushes for
            IF p_kiosk IS NULL THEN
                RAISE EXCEPTION 'this kiosk has no id yet' USING ERRCODE = '42501';
            END IF;
            IF EXISTS (SELECT 1 FROM kiosklogin WHERE kiosk_id = p_kiosk) THEN
                RAISE EXCEPTION 'kiosk % belongs to another login', p_kiosk USING ERRCODE = '42501';
            END IF;
            INSERT INTO kiosklogin (role_name, kiosk_id, bound_at) VALUES (session_user, p_kiosk, now_);
            me := p_kiosk;
        ELSIF p_kiosk IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'login % pushes for kiosk % only, not %', session_user, me, p_kiosk
                USING ERRCODE = '42501';
        END IF;
    END IF;
    PERFORM kiosk_take_revisions(1);  -- the mark: every revision below is above this one
    p_attempts := coalesce(p_attempts, '[]');
    p_attendance := coalesce(p_attendance, '[]');
    p_photos := coalesce(p_photos, '[]');

    -- the kiosk's own row
    FOR k IN SELECT * FROM jsonb_populate_recordset(NULL::kiosk, coalesce(p_kiosks, '[]')) LOOP
        IF NOT trusted AND k.id IS DISTINCT FROM me THEN
            PERFORM kiosk_reject(me, 'kiosk', k.id, 'not_own_kiosk', to_jsonb(k));
            rejected := rejected + 1;
            CONTINUE;
        END IF;
        INSERT INTO kiosk (id, created_at, updated_at, rev, deleted_at, name, project_id, latitude, longitude, last_seen_at)
        VALUES (k.id, coalesce(k.created_at, now_), now_, nextval('kiosk_rev'), k.deleted_at, k.name, k.project_id,
                k.latitude, k.longitude, k.last_seen_at)
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, project_id = EXCLUDED.project_id,
            latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, last_seen_at = EXCLUDED.last_seen_at,
            updated_at = EXCLUDED.updated_at, rev = EXCLUDED.rev;
    END LOOP;

    -- attempts: the login's own kiosk, at a believable time
    IF NOT trusted THEN
        INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
        SELECT gen_random_uuid(), now_, session_user, me, 'signinattempt', a.id,
               CASE WHEN a.kiosk_id IS DISTINCT FROM me THEN 'not_own_kiosk' ELSE 'time_far_from_push' END,
               to_jsonb(a)::text
          FROM jsonb_populate_recordset(NULL::signinattempt, p_attempts) a
         WHERE a.kiosk_id IS DISTINCT FROM me OR a.at > now_ + interval '{FUTURE_SKEW}'
            OR a.at < now_ - interval '{MAX_AGE}';
        GET DIAGNOSTICS n = ROW_COUNT;
        rejected := rejected + n;
    END IF;
    SELECT coalesce(jsonb_agg(x), '[]') INTO acc
      FROM jsonb_array_elements(p_attempts) x, LATERAL jsonb_populate_record(NULL::signinattempt, x) a
     WHERE trusted OR NOT (a.kiosk_id IS DISTINCT FROM me OR a.at > now_ + interval '{FUTURE_SKEW}'
                           OR a.at < now_ - interval '{MAX_AGE}');

    -- attendance is believed only with its own attempt, in this batch, at the same time
    SELECT coalesce(jsonb_agg(jsonb_build_object('row', to_jsonb(t0), 'why', v.why)), '[]') INTO bad
      FROM jsonb_populate_recordset(NULL::attendance, p_attendance) t0
      LEFT JOIN jsonb_populate_recordset(NULL::signinattempt, acc) b ON b.id = t0.attempt_id
      CROSS JOIN LATERAL (SELECT CASE
            WHEN b.id IS NULL THEN 'no_attempt_in_batch'
            WHEN b.outcome <> 'signed_in' OR b.worker_id IS DISTINCT FROM t0.worker_id
                 OR b.project_id IS DISTINCT FROM t0.project_id OR b.work_date IS DISTINCT FROM t0.work_date
                 OR b.kiosk_id IS DISTINCT FROM t0.kiosk_id THEN 'attempt_does_not_match'
            WHEN abs(extract(epoch FROM t0.first_at - b.at)) > 2 THEN 'first_at_not_attempt_time'
            WHEN NOT trusted AND t0.kiosk_id IS DISTINCT FROM me THEN 'not_own_kiosk'
            WHEN NOT trusted AND (t0.first_at > now_ + interval '{FUTURE_SKEW}'
                                  OR t0.first_at < now_ - interval '{MAX_AGE}') THEN 'time_far_from_push'
            WHEN NOT trusted AND NOT EXISTS (
                SELECT 1 FROM employment e
                 WHERE e.worker_id = t0.worker_id AND e.project_id = t0.project_id AND e.deleted_at IS NULL
                   AND e.confirmed_at IS NOT NULL AND e.start_date <= t0.work_date
                   AND (e.end_date IS NULL OR e.end_date >= t0.work_date)) THEN 'not_employed_on_project'
        END AS why) v
     WHERE v.why IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attendance x WHERE x.id = t0.id);
    SELECT coalesce(array_agg((e->'row'->>'id')::uuid), '{{}}') INTO bad_ids FROM jsonb_array_elements(bad) e;
    INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
    SELECT gen_random_uuid(), now_, session_user, me, 'attendance', (e->'row'->>'id')::uuid, e->>'why', (e->'row')::text
      FROM jsonb_array_elements(bad) e;
    GET DIAGNOSTICS n = ROW_COUNT;
    rejected := rejected + n;
    WITH gone AS (  -- the attempt behind a refused attendance goes with it
        INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
        SELECT gen_random_uuid(), now_, session_user, me, 'signinattempt', (x->>'id')::uuid, e->>'why', x::text
          FROM jsonb_array_elements(bad) e JOIN jsonb_array_elements(acc) x ON x->>'id' = e->'row'->>'attempt_id'
        RETURNING row_id
    ) SELECT coalesce(array_agg(row_id), '{{}}') INTO dropped FROM gone;
    rejected := rejected + cardinality(dropped);

    INSERT INTO signinattempt
    SELECT r.* FROM jsonb_array_elements(acc) x,
           LATERAL jsonb_populate_record(NULL::signinattempt,
                                         x || jsonb_build_object('rev', nextval('kiosk_rev'), 'updated_at', now_)) r
     WHERE r.id NOT IN (SELECT unnest(dropped))
    ON CONFLICT (id) DO NOTHING;

    -- photos of the login's own attempts only
    INSERT INTO pushrejection (id, at, login, kiosk_id, table_name, row_id, reason, detail)
    SELECT gen_random_uuid(), now_, session_user, me, 'gatephoto', g.id, 'not_own_attempt', (to_jsonb(g) - 'jpeg')::text
      FROM jsonb_populate_recordset(NULL::gatephoto, p_photos) g
     WHERE NOT EXISTS (SELECT 1 FROM signinattempt s WHERE s.id = g.attempt_id AND (trusted OR s.kiosk_id = me));
    GET DIAGNOSTICS n = ROW_COUNT;
    rejected := rejected + n;
    INSERT INTO gatephoto
    SELECT r.* FROM jsonb_array_elements(p_photos) x,
           LATERAL jsonb_populate_record(NULL::gatephoto,
                                         x || jsonb_build_object('rev', nextval('kiosk_rev'), 'updated_at', now_)) r
     WHERE EXISTS (SELECT 1 FROM signinattempt s WHERE s.id = r.attempt_id AND (trusted OR s.kiosk_id = me))
    ON CONFLICT DO NOTHING;

    -- attendance: one per worker, project and day, the earliest (then the smaller id) wins.
    -- First every day the shared database does not hold yet, in one statement; then the rest, one by one.
    INSERT INTO attendance
    SELECT r.* FROM jsonb_array_elements(p_attendance) x,
           LATERAL jsonb_populate_record(NULL::attendance,
                                         x || jsonb_build_object('rev', nextval('kiosk_rev'), 'updated_at', now_)) r
     WHERE r.id NOT IN (SELECT unnest(bad_ids))
    ON CONFLICT DO NOTHING;
    FOR t IN SELECT r.* FROM jsonb_populate_recordset(NULL::attendance, p_attendance) r
              WHERE r.id NOT IN (SELECT unnest(bad_ids)) AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.id = r.id)
              ORDER BY r.first_at, r.id LOOP
        t.rev := nextval('kiosk_rev');
        t.updated_at := now_;
        LOOP
            SELECT id, first_at INTO held FROM attendance
             WHERE worker_id = t.worker_id AND project_id = t.project_id AND work_date = t.work_date FOR UPDATE;
            IF FOUND THEN
                kw := kw || t.worker_id; kp := kp || t.project_id; kd := kd || t.work_date;
                EXIT WHEN (t.first_at, t.id) >= (held.first_at, held.id);  -- later: the shared row stays
                DELETE FROM attendance WHERE id = held.id;
            END IF;
            INSERT INTO attendance SELECT (t).* ON CONFLICT DO NOTHING;
            EXIT WHEN FOUND;  -- else another push took the day just now: compare again
        END LOOP;
    END LOOP;

    -- successful attempts whose attendance is not here: their day was contested, or it comes later
    SELECT kw || coalesce(array_agg(b.worker_id), '{{}}'), kp || coalesce(array_agg(b.project_id), '{{}}'),
           kd || coalesce(array_agg(b.work_date), '{{}}')
      INTO kw, kp, kd
      FROM jsonb_populate_recordset(NULL::signinattempt, acc) b
     WHERE b.outcome IN ('signed_in', 'already') AND b.worker_id IS NOT NULL AND b.project_id IS NOT NULL
       AND b.id NOT IN (SELECT unnest(dropped))
       AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.id = b.attendance_id);
    SELECT count(*) INTO n_contested FROM (SELECT DISTINCT * FROM unnest(kw, kp, kd)) c;
    UPDATE signinattempt s
       SET outcome = CASE WHEN s.id = w.attempt_id THEN 'signed_in' ELSE 'already' END,
           attendance_id = w.id, rev = nextval('kiosk_rev'), updated_at = now_
      FROM attendance w, (SELECT DISTINCT * FROM unnest(kw, kp, kd) AS u(w, p, d)) c
     WHERE w.worker_id = c.w AND w.project_id = c.p AND w.work_date = c.d
       AND s.worker_id = c.w AND s.project_id = c.p AND s.work_date = c.d
       AND s.outcome IN ('signed_in', 'already')
       AND (s.outcome <> CASE WHEN s.id = w.attempt_id THEN 'signed_in' ELSE 'already' END
            OR s.attendance_id IS DISTINCT FROM w.id);
    RETURN jsonb_build_object('contested', n_contested, 'rejected', rejected);
END
$$;

REVOKE ALL ON FUNCTION kiosk_take_revisions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kiosk_reject(uuid, text, uuid, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION kiosk_push(uuid, jsonb, jsonb, jsonb, jsonb) FROM PUBLIC;

ALTER TABLE gatephoto ENABLE ROW LEVEL SECURITY;
CREATE FUNCTION kiosk_photo_visible(p_attempt uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
    SELECT kiosk_trusted()
        OR EXISTS (SELECT 1 FROM signinattempt s WHERE s.id = p_attempt AND s.kiosk_id = kiosk_self())
$$;
CREATE POLICY gatephoto_own_kiosk ON gatephoto FOR SELECT USING (kiosk_photo_visible(attempt_id));
"""

_PG_DROP = """
DROP POLICY IF EXISTS gatephoto_own_kiosk ON gatephoto;
ALTER TABLE gatephoto DISABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS kiosk_photo_visible(uuid);
DROP FUNCTION IF EXISTS kiosk_push(uuid, jsonb, jsonb, jsonb, jsonb);
DROP FUNCTION IF EXISTS kiosk_reject(uuid, text, uuid, text, jsonb);
DROP FUNCTION IF EXISTS kiosk_safe_revision();
DROP FUNCTION IF EXISTS kiosk_take_revisions(integer);
DROP FUNCTION IF EXISTS kiosk_self();
DROP FUNCTION IF EXISTS kiosk_trusted();
"""


def upgrade() -> None:
    op.create_table(
        "pushrejection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("kiosk_id", sa.Uuid(), nullable=True),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pushrejection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pushrejection_at"), ["at"], unique=False)
    op.create_table(
        "kiosklogin",
        sa.Column("role_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kiosk_id", sa.Uuid(), nullable=False),
        sa.Column("bound_at", store.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("role_name"),
        sa.UniqueConstraint("kiosk_id"),
    )
    op.execute(
        f"UPDATE worker SET id_number_masked = substr('{'*' * 24}', 1, length(id_number_masked) - 4) "
        "|| substr(id_number_masked, length(id_number_masked) - 3) WHERE length(id_number_masked) >= 8"
    )
    if op.get_bind().dialect.name != "postgresql":
        op.execute(
            "CREATE TRIGGER synccounter_forward BEFORE UPDATE ON synccounter WHEN NEW.value < OLD.value "
            "BEGIN SELECT RAISE(ABORT, 'the revision counter only moves forward'); END"
        )
        return
    op.execute(
        """
        CREATE FUNCTION kiosk_counter_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.value < OLD.value THEN
                RAISE EXCEPTION 'the revision counter only moves forward' USING ERRCODE = '42501';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER synccounter_forward BEFORE UPDATE ON synccounter "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_counter_forward()"
    )
    op.execute("DROP TRIGGER IF EXISTS synccounter_notify ON synccounter")
    op.execute("CREATE SEQUENCE kiosk_rev AS bigint MINVALUE 1 CACHE 1")
    op.execute(
        "SELECT setval('kiosk_rev', greatest(1, coalesce((SELECT value FROM synccounter WHERE name = 'rev'), 0)), "
        "coalesce((SELECT value FROM synccounter WHERE name = 'rev'), 0) > 0)"
    )
    op.execute(_PG_FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_DROP)
        op.execute(
            "UPDATE synccounter SET value = greatest(value, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
            "FROM kiosk_rev)) WHERE name = 'rev'"
        )
        op.execute("DROP SEQUENCE IF EXISTS kiosk_rev")
        op.execute(
            "CREATE TRIGGER synccounter_notify AFTER INSERT OR UPDATE ON synccounter "
            "FOR EACH ROW EXECUTE FUNCTION kiosk_sync_notify()"
        )
    op.execute("DROP TRIGGER IF EXISTS synccounter_forward ON synccounter" if op.get_bind().dialect.name == "postgresql"
               else "DROP TRIGGER IF EXISTS synccounter_forward")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kiosk_counter_forward()")
    op.execute(  # the first 3 back where the shared database knows them
        "UPDATE worker SET id_number_masked = substr(id_number, 1, 3) || substr(id_number_masked, 4) "
        "WHERE id_number IS NOT NULL AND length(id_number) >= 8"
    )
    op.drop_table("kiosklogin")
    with op.batch_alter_table("pushrejection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pushrejection_at"))
    op.drop_table("pushrejection")
