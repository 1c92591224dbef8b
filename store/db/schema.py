"""Which migration a database is at: the latest one this program knows (``head``), the one a database
is stamped with (``current``), and the check that refuses an old or unknown schema with the
"run `kiosk db upgrade`" message. Alembic is only read here; ``store.db.migrate`` runs the upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from store.db.urls import shown
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
    where = shown(url)
    return f"kiosk db upgrade --db {where}" if where else "kiosk db upgrade --db URL"


def check_current(conn: Connection, url: str = "") -> None:
    """Raise NotMigrated unless the database is at the latest migration (the message gives the command)."""
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
