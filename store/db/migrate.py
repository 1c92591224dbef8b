"""Schema migrations (Alembic), run on SQLite and PostgreSQL alike. ``kiosk db upgrade --db URL``.

The revision checks (``head``, ``current``, ``check_current``) live in ``store.db.schema``, which the
engine also uses to refuse an old schema. Alembic is imported only when a migration runs."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from store.db.engine import make_engine, translate_errors
from store.db.schema import HEAD, alembic_config, check_known, current


def upgrade_engine(engine: Engine, target: str = "head") -> str:
    """Migrate an open engine's database to ``target``; returns the revision it is at afterwards.
    A database already at the latest revision is left as it is without loading Alembic (``kiosk run``
    calls this on every start)."""
    url = str(engine.url)
    with translate_errors(url), engine.begin() as conn:
        check_known(conn, url)
        if target in ("head", HEAD) and current(conn) == HEAD:
            return HEAD
        # Alembic is loaded only when there is something to migrate: a start at the latest revision
        # never pays for it (issue 29)
        from alembic import command

        if conn.dialect.name == "postgresql":  # a migration may rightly take longer than one statement may
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        command.upgrade(alembic_config(conn), target)
        rev = current(conn)
    return rev or ""


def upgrade(url: str, target: str = "head") -> str:
    engine = make_engine(url)
    try:
        return upgrade_engine(engine, target)
    finally:
        engine.dispose()
