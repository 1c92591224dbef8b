"""Schema migrations (Alembic), run on SQLite and PostgreSQL alike. ``kiosk db upgrade --db URL``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from store.db import make_engine, translate_errors
from store.errors import NotMigrated

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    head_rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_rev is not None
    return head_rev


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def check_current(conn: Connection) -> None:
    """Raise NotMigrated unless the database is at the latest migration."""
    rev = current(conn)
    if rev is None:
        raise NotMigrated(
            "数据库尚未初始化，请先运行：kiosk db upgrade --db <地址>",
            "The database has no schema yet: run `kiosk db upgrade --db URL` first",
        )
    if rev != head():
        raise NotMigrated(
            f"数据库结构版本过旧（{rev}），请运行：kiosk db upgrade --db <地址>",
            f"The database schema is at {rev}, not the latest {head()}: run `kiosk db upgrade --db URL`",
        )


def upgrade_engine(engine: Engine, target: str = "head") -> str:
    """Migrate an open engine's database to ``target``; returns the revision it is at afterwards."""
    with translate_errors(str(engine.url)), engine.begin() as conn:
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
