"""Opening a database: the kiosk's local SQLite store or the shared database (PostgreSQL or SQLite).

SQLite is opened in WAL mode with foreign keys on and a busy timeout, and its transactions are begun
explicitly so that a writer can ask for ``BEGIN IMMEDIATE`` (see ``write_session``): two processes
signing in the same worker then queue on the write lock instead of failing on a stale snapshot.

Durability: ``synchronous=FULL`` by default. In WAL mode FULL syncs the write-ahead log on every commit,
so a sign-in the officer saw as green survives a power cut or a kernel crash, not only a crash of the
program (NORMAL would survive the latter only). It costs one fsync per sign-in, measured by
``bench/signin.py``; ``[store] sqlite_synchronous`` in the config can lower it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

import store.revision  # noqa: F401  (registers the revision stamping on every Session)
from store.errors import DatabaseLocked, DatabaseUnavailable, NotMigrated

BUSY_TIMEOUT_MS = 5000
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL, ``postgresql://…`` (psycopg 3 is used), or a bare path to a SQLite file."""
    url = url.strip()
    if not url:
        raise DatabaseUnavailable("数据库地址为空", "The database URL is empty")
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser().resolve())
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(normalise_url(url_or_engine))
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, synchronous: str = "FULL", echo: bool = False) -> Engine:
    """An engine for ``url``. Does not connect yet; errors in the URL itself are raised as StoreError."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"数据库地址格式错误：{url}", f"Malformed database URL: {url}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, synchronous.upper(), echo)
    if backend == "postgresql":
        try:
            return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        except Exception as exc:  # missing driver and the like
            raise DatabaseUnavailable(f"无法打开数据库：{url}", f"Cannot open database {url}: {exc}") from exc
    raise DatabaseUnavailable(f"不支持的数据库类型：{backend}", f"Unsupported database kind: {backend}")


def _sqlite_engine(url: str, synchronous: str, echo: bool) -> Engine:
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"sqlite synchronous must be one of {SYNCHRONOUS_MODES}")
    database = make_url(url).database
    if database and database != ":memory:":
        parent = Path(database).parent
        if not parent.is_dir():
            raise DatabaseUnavailable(
                f"数据库文件所在的文件夹不存在：{parent}", f"The folder of the database file does not exist: {parent}"
            )
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        # one connection per checkout: sessions in worker threads never share a sqlite3 connection
        poolclass=NullPool if database in (None, "", ":memory:") else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def translate_errors(url: str = "") -> Iterator[None]:
    """Turn driver errors into StoreErrors a user can read (locked file, server down, bad file)."""
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        low = text.lower()
        if "locked" in low or "busy" in low:
            raise DatabaseLocked(
                "数据库文件被其他程序占用，请稍后重试", f"The database file is locked by another program: {text}"
            ) from exc
        if "no such table" in low or ("does not exist" in low and "relation" in low):
            raise NotMigrated(
                "数据库尚未初始化，请先运行 kiosk db upgrade", "The database has no schema: run `kiosk db upgrade` first"
            ) from exc
        if isinstance(exc, ProgrammingError):
            raise  # a bug in a query, not something the user can fix
        raise DatabaseUnavailable(
            f"无法连接数据库 {redact(url)}：{text.splitlines()[0] if text else ''}",
            f"Cannot reach the database {redact(url)}: {text.splitlines()[0] if text else exc}",
        ) from exc


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if not url or "://" not in url:
        return url
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed url>"


def session(engine: Engine) -> Session:
    """A session for one unit of work (never shared between threads)."""
    return Session(engine, expire_on_commit=False)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once on SQLite (``BEGIN IMMEDIATE``).

    Commits on success, rolls back on error.
    """
    with Session(engine, expire_on_commit=False) as s:
        if engine.dialect.name == "sqlite":
            s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def open_store(url: str, *, synchronous: str = "FULL", require_schema: bool = True) -> Engine:
    """Open a database for use: connect once, and check that its schema is at the latest migration."""
    engine = make_engine(url, synchronous=synchronous)
    with translate_errors(url), engine.connect() as conn:
        if require_schema:
            from store.migrate import check_current

            check_current(conn)
    return engine


def sqlite_path(engine: Engine) -> str | None:
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return db if db and db != ":memory:" else None


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def file_mode_private(path: Path) -> None:
    """Make a file readable by its owner only (a store of personal data, a private key)."""
    os.chmod(path, 0o600)
