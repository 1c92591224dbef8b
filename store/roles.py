"""PostgreSQL roles for kiosks: ``kiosk db roles --db URL [--login NAME]``.

A kiosk's login may read the reference data a gate needs and record what happens at the gate, and
nothing else:

- SELECT on the pulled tables (store/sync_pull.py), column by column where some columns never leave the
  shared database: a worker without ``id_number``, a health check without ``result_note``; no access at
  all to identity documents, face checks, bank cards or the audit log;
- INSERT (and SELECT) on attendance, sign-in attempts and gate photos; DELETE on attendance and UPDATE
  of an attempt's ``outcome``/``attendance_id`` only, which the earliest-wins rule of a push needs;
- UPDATE on the revision counter (every write takes a revision), SELECT on ``syncstate`` and
  ``alembic_version``.

It cannot insert, change or delete workers, projects, employment, officers or issuer keys. The group
role (default ``kiosk_gate``, NOLOGIN) carries the grants; ``--login`` makes a login role in it. Roles
belong to the whole server, grants to this database: run it on each shared database, again after a
migration adds a table.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import Engine

from store.errors import StoreError
from store.live import libpq_url

GROUP = "kiosk_gate"

def grants() -> dict[str, list[str]]:
    """Table -> privileges of the kiosk role (a privilege with columns reads ``PRIV (col, col)``)."""
    from store.sync_pull import PULLED, pulled_columns, table_of

    out: dict[str, list[str]] = {}
    for model in PULLED:
        table = table_of(model)
        cols = pulled_columns(model, face_thumbs=True)
        if len(cols) == len(table.columns):
            out[table.name] = ["SELECT"]
        else:
            out[table.name] = [f"SELECT ({', '.join(cols)})"]
    out["attendance"] = ["SELECT", "INSERT", "DELETE"]
    out["signinattempt"] = ["SELECT", "INSERT", "UPDATE (outcome, attendance_id, rev, updated_at)"]
    out["gatephoto"] = ["SELECT", "INSERT"]
    out["kioskevent"] = ["INSERT"]  # the kiosk's event log: it adds its own, reads no one's
    out["kiosk"] = ["SELECT", "INSERT", "UPDATE (name, project_id, latitude, longitude, last_seen_at, updated_at, rev)"]
    out["synccounter"] = ["SELECT", "UPDATE"]
    out["syncstate"] = ["SELECT"]
    out["alembic_version"] = ["SELECT"]
    return out


class RoleError(StoreError):
    """Roles cannot be made here (not PostgreSQL, a bad name, no right to create roles)."""


_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise RoleError(
            f"角色名无效：{name}（小写字母、数字、下划线）", f"Bad role name {name!r} (lowercase letters, digits, underscore)"
        )
    return name


def create_roles(engine: Engine, *, group: str = GROUP, login: str | None = None, password: str | None = None) -> dict[str, Any]:
    """Create (or bring up to date) the kiosk group role and its grants, and optionally a login in it."""
    import psycopg
    from psycopg import sql

    if engine.dialect.name != "postgresql":
        raise RoleError("数据库角色只适用于 PostgreSQL", "Database roles are for PostgreSQL only")
    _check_name(group)
    if login is not None:
        _check_name(login)
    table_grants = grants()
    try:
        url = libpq_url(engine.url.render_as_string(hide_password=False))
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
            dbname = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), sql.Identifier(group)))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(group)))
            conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(sql.Identifier(group)))
            for table, privs in table_grants.items():
                for priv in privs:  # privilege text comes from our own table, never from input
                    conn.execute(
                        sql.SQL("GRANT " + priv + " ON {} TO {}").format(sql.Identifier(table), sql.Identifier(group))
                    )
            if login is not None:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                q = sql.SQL(verb + " ROLE {} LOGIN").format(sql.Identifier(login))
                if password:
                    q = q + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
                conn.execute(q)
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RoleError(
            "没有创建角色的权限：请用数据库管理员账号运行", f"Not allowed to create roles: run it as a database superuser ({exc})"
        ) from exc
    except psycopg.OperationalError as exc:
        raise RoleError(f"无法连接数据库：{exc}", f"Cannot reach the database: {exc}") from exc
    return {"group": group, "login": login, "grants": table_grants}
