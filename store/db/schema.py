"""Which migration a database is at: the latest one this program knows (``HEAD``), the one a database
is stamped with (``current``), and the check that refuses an old or unknown schema with the
"run `kiosk db upgrade`" message.

The check runs on every start (``store.db.engine.open_store``), so it reads the stamp with one plain
query and compares it with the revision strings stored here, ``REVISIONS``: importing Alembic (and
Mako, and walking the migration scripts) would cost the officer screen a quarter of a second of its
start (issue 29). ``tests/test_store.py`` proves ``REVISIONS`` is the migration chain, so a new
migration without its string here fails the tests. Alembic itself is loaded only to migrate
(``alembic_config``, used by ``store.db.migrate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store.db.urls import shown
from store.errors import NotMigrated

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

#: every migration of ``migrations/versions``, oldest first: the chain's ``revision`` strings
REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0011",
    "0012",
    "0014",
)
#: the latest migration, what ``kiosk db upgrade`` brings a database to
HEAD = REVISIONS[-1]


def alembic_config(connection: Connection | None = None) -> Config:
    # Alembic is imported here, not at the top: only migrating needs it, never a start (module doc).
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return HEAD


def current(conn: Connection) -> str | None:
    """The revision the database is stamped with (Alembic's ``alembic_version`` table); None: no schema.
    Two stamps (branches this program never makes) come back joined, which no check knows."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    stamps = sorted(str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(stamps) if stamps else None


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
    if rev not in REVISIONS:
        raise NotMigrated(
            f"数据库 {where} 的结构版本 {rev} 不是本程序所知的版本（由更新的程序写入？）：请升级本程序，不要降级数据库",
            f"The database {where} is at schema revision {rev}, which this program does not know (written by a "
            f"newer version?): upgrade the program",
        )
    if rev != HEAD:
        raise NotMigrated(
            f"数据库 {where} 结构版本过旧（{rev}），请运行：{cmd}",
            f"The database {where} schema is at {rev}, not the latest {HEAD}: run `{cmd}`",
        )


def check_known(conn: Connection, url: str = "") -> None:
    """Before migrating: a revision stamp this program does not know is refused with a clear message
    (alembic would raise ``CommandError``: "Can't locate revision")."""
    rev = current(conn)
    if rev is not None and rev not in REVISIONS:
        check_current(conn, url)
