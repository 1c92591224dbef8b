"""Schema migrations (Alembic), run on SQLite and PostgreSQL alike. ``kiosk db upgrade --db URL``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from store.db.engine import make_engine, translate_errors
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


def upgrade_command(url: str = "") -> str:
    """The exact command that migrates the database at ``url`` (password left out)."""
    from store.db.engine import shown

    where = shown(url)
    return f"kiosk db upgrade --db {where}" if where else "kiosk db upgrade --db URL"


def check_current(conn: Connection, url: str = "") -> None:
    """Raise NotMigrated unless the database is at the latest migration (the message gives the command)."""
    from store.db.engine import shown

    rev = current(conn)
    cmd = upgrade_command(url)
    where = shown(url) or "the database"
    if rev is None:
        raise NotMigrated(
            f"数据库 {where} 尚未初始化，请先运行：{cmd}",
            f"The database {where} has no schema yet: run `{cmd}` first",
        )
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if rev not in known:
        raise NotMigrated(
            f"数据库 {where} 的结构版本 {rev} 不是本程序所知的版本（由更新的程序写入？）：请升级本程序，不要降级数据库",
            f"The database {where} is at schema revision {rev}, which this program does not know (written by a "
            f"newer version?): upgrade the program",
        )
    if rev != head():
        raise NotMigrated(
            f"数据库 {where} 结构版本过旧（{rev}），请运行：{cmd}",
            f"The database {where} schema is at {rev}, not the latest {head()}: run `{cmd}`",
        )


def check_known(conn: Connection, url: str = "") -> None:
    """Before migrating: a revision stamp this program does not know is refused with a clear message
    (alembic would raise ``CommandError``: "Can't locate revision")."""
    rev = current(conn)
    if rev is None:
        return
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if rev not in known:
        check_current(conn, url)


def upgrade_engine(engine: Engine, target: str = "head") -> str:
    """Migrate an open engine's database to ``target``; returns the revision it is at afterwards."""
    url = str(engine.url)
    with translate_errors(url), engine.begin() as conn:
        check_known(conn, url)
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
