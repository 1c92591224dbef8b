"""PostgreSQL roles for kiosks: ``kiosk db roles --db URL [--login NAME]``.

A kiosk's login may read the reference data a gate needs and record what happens at the gate, and
nothing else:

- SELECT on the pulled tables (store/sync/pull.py), column by column where some columns never leave the
  shared database: a worker without ``id_number``, a health check without ``result_note``; no access at
  all to identity documents, face checks, bank cards or the audit log;
- no right to write any table: what a gate records goes in through ``kiosk_push`` (migration 0004, a
  SECURITY DEFINER function), which accepts rows of the login's own kiosk only, attendance only with
  its attempt, and runs the earliest-wins rule itself (its event log through ``kiosk_push_events``, migration
  0005); EXECUTE on those and on ``kiosk_safe_revision``;
- SELECT on attendance and kiosks (what ``already`` needs), on gate photos under row-level security
  (the photos of its own attempts only), on ``synccounter``, ``syncstate`` and ``alembic_version``;
  nothing on attempts, on the revision sequence or on ``pushrejection``.

One login per kiosk: ``--login NAME --kiosk UUID`` binds the login to that kiosk (else its first push
binds it); a kiosk id belongs to one login. Each login gets timeouts of its own (``ALTER ROLE … SET``):
statement, idle in transaction and lock, so a stalled or hostile kiosk cannot hold anything for long
(and one that lifts them in its session while holding a revision is ended by the next pull after
two minutes, see the migration).

It cannot insert, change or delete workers, projects, employment, officers or issuer keys. The group
role (default ``kiosk_gate``, NOLOGIN) carries the grants; ``--login`` makes a login role in it. Roles
belong to the whole server, grants to this database: run it on each shared database, again after a
migration adds a table.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.engine import Engine

from store.db.engine import pg_connect_args
from store.errors import StoreError
from store.sync.live import libpq_url

GROUP = "kiosk_gate"
#: functions a kiosk login may call (migration 0004)
FUNCTIONS = (
    "kiosk_push(uuid, jsonb, jsonb, jsonb, jsonb)",
    "kiosk_push_events(uuid, jsonb)",
    "kiosk_push_departures(uuid, jsonb)",
    "kiosk_safe_revision()",
)
#: a kiosk login's own limits, in milliseconds: one statement, idle inside a transaction, waiting for a lock
TIMEOUTS_MS = {
    "statement_timeout": 60_000,
    "idle_in_transaction_session_timeout": 30_000,
    "lock_timeout": 10_000,
}


def grants() -> dict[str, list[str]]:
    """Table -> privileges of the kiosk role (a privilege with columns reads ``PRIV (col, col)``)."""
    from store.sync.pull import PULLED, pulled_columns, table_of

    out: dict[str, list[str]] = {}
    for model in PULLED:
        table = table_of(model)
        cols = pulled_columns(model, face_thumbs=True)
        if len(cols) == len(table.columns):
            out[table.name] = ["SELECT"]
        else:
            out[table.name] = [f"SELECT ({', '.join(cols)})"]
    out["attendance"] = ["SELECT"]
    out["gatephoto"] = ["SELECT"]  # row-level security: the login's own kiosk's photos only
    out["kiosk"] = ["SELECT"]
    out["synccounter"] = ["SELECT"]
    out["syncstate"] = ["SELECT"]
    out["alembic_version"] = ["SELECT"]
    return out


class RoleError(StoreError):
    """Roles cannot be made here (not PostgreSQL, a bad name, no right to create roles)."""


_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise RoleError(
            f"角色名无效：{name}（小写字母、数字、下划线）",
            f"Bad role name {name!r} (lowercase letters, digits, underscore)",
        )
    return name


def create_roles(
    engine: Engine,
    *,
    group: str = GROUP,
    login: str | None = None,
    password: str | None = None,
    kiosk_id: uuid.UUID | None = None,
    timeouts_ms: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Create (or bring up to date) the kiosk group role and its grants, and optionally a login in it
    (bound to ``kiosk_id`` when given), with its timeouts."""
    import psycopg
    from psycopg import sql

    if engine.dialect.name != "postgresql":
        raise RoleError("数据库角色只适用于 PostgreSQL", "Database roles are for PostgreSQL only")
    _check_name(group)
    if login is not None:
        _check_name(login)
    if kiosk_id is not None and login is None:
        raise RoleError("--kiosk 需要与 --login 一起使用", "--kiosk goes with --login")
    table_grants = grants()
    limits = dict(TIMEOUTS_MS | (timeouts_ms or {}))
    try:
        url = libpq_url(engine.url.render_as_string(hide_password=False))
        with psycopg.connect(url, autocommit=True, **pg_connect_args()) as conn, conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
            dbname = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]  # psycopg types fetchone() as optional; this query always returns a row
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(dbname), sql.Identifier(group)
                )
            )
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(group)))
            conn.execute(
                sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(sql.Identifier(group))
            )
            conn.execute(
                sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(sql.Identifier(group))
            )
            for table, privs in table_grants.items():
                for priv in privs:  # privilege text comes from our own table, never from input
                    conn.execute(
                        sql.SQL("GRANT " + priv + " ON {} TO {}").format(
                            sql.Identifier(table), sql.Identifier(group)
                        )
                    )
            for fn in FUNCTIONS:  # signatures come from our own table, never from input
                conn.execute(
                    sql.SQL("GRANT EXECUTE ON FUNCTION " + fn + " TO {}").format(sql.Identifier(group))
                )
            for name, ms in limits.items():  # the group's, for the record; a login's own apply (below)
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET " + name + " = {}").format(
                        sql.Identifier(group), sql.Literal(int(ms))
                    )
                )
            if login is not None:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                q = sql.SQL(verb + " ROLE {} LOGIN").format(sql.Identifier(login))
                if password:
                    q = q + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
                conn.execute(q)
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))
                for name, ms in limits.items():
                    conn.execute(
                        sql.SQL("ALTER ROLE {} SET " + name + " = {}").format(
                            sql.Identifier(login), sql.Literal(int(ms))
                        )
                    )
                if kiosk_id is not None:
                    taken = conn.execute(
                        "SELECT role_name FROM kiosklogin WHERE kiosk_id = %s AND role_name <> %s",
                        (kiosk_id, login),
                    ).fetchone()
                    if taken:
                        raise RoleError(
                            f"终端 {kiosk_id} 已属于登录名 {taken[0]}",
                            f"Kiosk {kiosk_id} belongs to the login {taken[0]}",
                        )
                    conn.execute(
                        "INSERT INTO kiosklogin (role_name, kiosk_id, bound_at) VALUES (%s, %s, now()) "
                        "ON CONFLICT (role_name) DO UPDATE SET kiosk_id = EXCLUDED.kiosk_id, bound_at = EXCLUDED.bound_at",
                        (login, kiosk_id),
                    )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RoleError(
            "没有创建角色的权限：请用数据库管理员账号运行",
            f"Not allowed to create roles: run it as a database superuser ({exc})",
        ) from exc
    except psycopg.OperationalError as exc:
        raise RoleError(f"无法连接数据库：{exc}", f"Cannot reach the database: {exc}") from exc
    return {
        "group": group,
        "login": login,
        "kiosk": str(kiosk_id) if kiosk_id else None,
        "grants": table_grants,
        "functions": list(FUNCTIONS),
        "timeouts_ms": limits,
    }
