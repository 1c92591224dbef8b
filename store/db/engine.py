"""Opening a database: the kiosk's local SQLite store or the shared database (PostgreSQL or SQLite).

SQLite is opened in WAL mode with foreign keys on and a busy timeout, and its transactions are begun
explicitly so that a writer can ask for ``BEGIN IMMEDIATE`` (see ``write_session``): two processes
signing in the same worker then queue on the write lock instead of failing on a stale snapshot.

PostgreSQL connections get limits, so nothing waits forever on a dead network or a stalled client:
connecting (``CONNECT_TIMEOUT_S``), TCP keep-alives and ``tcp_user_timeout`` (a cut line is noticed); one
statement and idle inside a transaction (2 min; the server ends the session and its locks) are the
database's own defaults (migration 0009), not libpq ``options``: a connection carries no session state,
so the product runs behind PgBouncer in transaction mode, and a role's own stricter timeouts still win.
Nothing prepares server-side statements that outlive a transaction (psycopg's automatic preparing is off,
``prepare_threshold=None``), for the same reason;
``deadline(engine, s)`` cuts this thread's connections of an engine when a block of work runs longer
(a sync whose answers stopped coming, e.g. behind a proxy that hangs).

Privacy: a SQLite store file (and its -wal/-shm) is made readable by its owner only (0600) when it is
opened; ``private_folder`` makes the folders it lives in 0700.

Durability: ``synchronous=FULL`` by default. In WAL mode FULL syncs the write-ahead log on every commit,
so a sign-in the officer saw as green survives a power cut or a kernel crash, not only a crash of the
program (NORMAL would survive the latter only). It costs one fsync per sign-in, measured by
``bench/signin.py``; ``[store] sqlite_synchronous`` in the config can lower it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool
from sqlmodel import Session, create_engine

import store.db.changes
import store.db.revision  # noqa: F401  (registers the revision stamping on every Session)
from store.db.schema import check_current, upgrade_command
from store.db.urls import normalise_url, redact, shown
from store.errors import DatabaseLocked, DatabaseUnavailable, NotMigrated, ReadRefused

BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(normalise_url(url_or_engine))
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, synchronous: str = "FULL", echo: bool = False, create: bool = True) -> Engine:
    """An engine for ``url``. Does not connect yet; errors in the URL itself are raised as StoreError.

    ``create=False`` (every read path): a SQLite file that does not exist is an error naming the file and
    the command that makes it, never an empty file made by connecting (checked at every connection)."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        port = "invalid literal for int()" in str(exc)
        raise DatabaseUnavailable(
            f"数据库地址格式错误：{redact(url)}" + ("（端口必须是数字）" if port else ""),
            f"Malformed database URL: {redact(url)}"
            + (" (the port must be a number)" if port else f" ({exc})"),
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, synchronous.upper(), echo, create)
    if backend == "postgresql":
        try:
            engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=pg_connect_args())
        except Exception as exc:  # missing driver and the like
            raise DatabaseUnavailable(
                f"无法打开数据库：{redact(url)}", f"Cannot open database {redact(url)}: {exc}"
            ) from exc
        _track_checkouts(engine)
        return engine
    raise DatabaseUnavailable(f"不支持的数据库类型：{backend}", f"Unsupported database kind: {backend}")


def missing_file(path: str | Path) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"数据库文件不存在：{path}（新建请运行：kiosk db upgrade --db {path}）",
        f"The database file does not exist: {path} (to make it: kiosk db upgrade --db {path})",
    )


class _Connections:
    """An engine's PostgreSQL connections, and which of them sit idle in its pool."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.all: dict[int, weakref.ref[Any]] = {}
        self.idle: set[int] = set()

    def live(self) -> list[Any]:
        with self.lock:
            conns = [ref() for ref in self.all.values()]
        return [c for c in conns if c is not None and not c.closed]


_CONNECTIONS: dict[int, _Connections] = {}


def _track_checkouts(engine: Engine) -> None:
    """Know every connection in use (checked out, or being pinged before a checkout)."""
    track = _CONNECTIONS[id(engine)] = _Connections()
    weakref.finalize(engine, _CONNECTIONS.pop, id(engine), None)

    @event.listens_for(engine, "connect")
    def _made(dbapi_conn: Any, record: Any) -> None:
        with track.lock:
            track.all[id(record)] = weakref.ref(dbapi_conn)
            track.idle.discard(id(record))

    @event.listens_for(engine, "checkout")
    def _out(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        with track.lock:
            track.idle.discard(id(record))

    @event.listens_for(engine, "checkin")
    def _in(_dbapi_conn: Any, record: Any) -> None:
        with track.lock:
            track.idle.add(id(record))


class Deadline:
    """What ``deadline`` did: ``expired`` once it had to cut the connections."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False


def _cut(engine_key: int) -> None:
    track = _CONNECTIONS.get(engine_key)
    for conn in track.live() if track else []:  # idle ones too: a pre-ping before a checkout may be hung
        with contextlib.suppress(Exception):  # closed meanwhile: nothing to cut
            fd = os.dup(conn.pgconn.socket)
            with socket.socket(fileno=fd) as sock:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once, with an error


@contextmanager
def deadline(engine: Engine, seconds: float | None) -> Iterator[Deadline]:
    """Cut every PostgreSQL connection of ``engine`` if the block is still running after ``seconds``
    (the driver then raises; the server rolls the transaction back). Meant for an engine of its own, as
    sync has: another thread's work on the same engine would be cut too. SQLite: no-op."""
    state = Deadline(seconds)
    if seconds is None or engine.dialect.name != "postgresql":
        yield state
        return
    key = id(engine)

    def fire() -> None:
        state.expired = True
        _cut(key)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()


def pg_connect_args() -> dict[str, Any]:
    """Connection settings of every shared connection: the connect timeout and keep-alives of the module
    doc, and no automatic server-side prepared statements (PgBouncer in transaction mode hands the next
    transaction another server connection, where they do not exist)."""
    return {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "prepare_threshold": None,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,
    }


def _sqlite_engine(url: str, synchronous: str, echo: bool, create: bool = True) -> Engine:
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"sqlite synchronous must be one of {SYNCHRONOUS_MODES}")
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    if not in_memory:
        assert database is not None
        parent = Path(database).parent
        if not parent.is_dir():
            raise DatabaseUnavailable(
                f"数据库文件所在的文件夹不存在：{parent}",
                f"The folder of the database file does not exist: {parent}",
            )
        if Path(database).is_dir():
            raise DatabaseUnavailable(
                f"这是文件夹，不是数据库文件：{database}",
                f"This is a folder, not a database file: {database}",
            )
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    if not create and not in_memory:
        # opened read-write, never created: a file removed behind our back is an error, not a new empty file
        import sqlite3
        from urllib.parse import quote

        assert database is not None
        target = "file:" + quote(str(Path(database).resolve())) + "?mode=rw"

        def creator() -> sqlite3.Connection:
            if not os.path.exists(database):
                raise sqlite3.OperationalError(f"no such database file: {database}")
            return cast(sqlite3.Connection, sqlite3.connect(target, uri=True, **connect_args))

        engine = create_engine("sqlite://", echo=echo, creator=creator, poolclass=QueuePool)
        engine.url = make_url(url)  # messages and sqlite_path() name the file
    else:
        engine = create_engine(
            url,
            echo=echo,
            connect_args=connect_args,
            # one connection per checkout: sessions in worker threads never share a sqlite3 connection
            poolclass=NullPool if in_memory else None,
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
        if database and database != ":memory:":
            _private_store_file(database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _disk_full(url: str) -> bool:
    """Whether the folder of a SQLite file has (almost) no free space left."""
    import shutil

    try:
        path = make_url(normalise_url(url)).database
        return bool(path) and shutil.disk_usage(Path(str(path)).parent).free < 64 * 1024
    except (OSError, ValueError, ArgumentError):
        return False


def create_command(url: str, name: str) -> str:
    """The command that makes the PostgreSQL database ``name`` on the server of ``url``."""
    try:
        u = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        return f"createdb {name}"
    host = f" -h {u.host}" if u.host else ""
    port = f" -p {u.port}" if u.port else ""
    user = f" -U {u.username}" if u.username else ""
    return f"createdb{host}{port}{user} {name}"


@contextmanager
def translate_errors(url: str = "") -> Iterator[None]:
    """Turn driver errors into StoreErrors a user can read (locked file, server down, bad file, full disk,
    read-only folder). Anything else (a bug in a query) is raised as it is."""
    try:
        yield
    except DatabaseError as exc:
        if isinstance(exc, IntegrityError):
            raise  # a rule of the data, handled where it is written
        text = str(exc.orig) if exc.orig is not None else str(exc)
        low = text.lower()
        where = shown(url)
        first = text.splitlines()[0] if text else type(exc).__name__
        if "no such database file" in low:
            raise missing_file(text.split(":", 1)[1].strip()) from exc
        if "file is not a database" in low or "malformed" in low:
            raise DatabaseUnavailable(
                f"不是数据库文件或文件已损坏：{where}（请从备份恢复）",
                f"Not a database file, or a damaged one: {where} (restore it from a backup)",
            ) from exc
        if "disk is full" in low or ("disk i/o error" in low and _disk_full(url)):
            raise DatabaseUnavailable(
                f"磁盘已满，无法写入数据库 {where}：请腾出磁盘空间后重试（已记录的数据未受影响）",
                f"The disk is full: cannot write the database {where}; free some space and retry (nothing "
                "already recorded is lost)",
            ) from exc
        if "disk i/o error" in low:
            raise DatabaseUnavailable(
                f"读写数据库文件出错：{where}（磁盘故障？）", f"Disk I/O error on the database file {where}"
            ) from exc
        if "readonly" in low or "read-only" in low or "unable to open database file" in low:
            raise DatabaseUnavailable(
                f"无法写入或打开数据库文件 {where}：请检查文件夹权限（只读或无权限）",
                f"Cannot open or write the database file {where}: check the folder's permissions "
                f"(read-only or not allowed): {first}",
            ) from exc
        if "locked" in low or "busy" in low:
            raise DatabaseLocked(
                f"数据库文件被其他程序占用，请稍后重试：{where}",
                f"The database file is locked by another program: {where}",
            ) from exc
        if "no such table" in low or ("does not exist" in low and "relation" in low):
            raise NotMigrated(
                f"数据库 {where} 尚未初始化，请先运行：{upgrade_command(url)}",
                f"The database {where} has no schema: run `{upgrade_command(url)}` first",
            ) from exc
        missing_db = re.search(r'database "([^"]+)" does not exist', text)
        if missing_db:
            name = missing_db.group(1)
            create = create_command(url, name)
            raise DatabaseUnavailable(
                f"数据库 {name} 不存在，请核对数据库名（{where}）；新建数据库请运行：{create}，"
                f"再运行：kiosk db upgrade --db {where}",
                f"There is no database {name}: check its name ({where}); to make it run: {create}, "
                f"then: kiosk db upgrade --db {where}",
            ) from exc
        if "permission denied" in low or "insufficient privilege" in low:
            m = re.search(r"permission denied for (?:table|relation|view|schema) (\w+)", text)
            what = m.group(1) if m else "?"
            raise ReadRefused(
                f"数据库账号无权读取 {what}（{where}）：请改用办公室数据库地址（--db postgresql://…），"
                f"或请管理员用 kiosk db roles 授权",
                f"The database login may not read {what} ({where}): use the office database URL (--db "
                f"postgresql://…), or ask the administrator to grant it (kiosk db roles)",
            ) from exc
        if not isinstance(exc, OperationalError):
            raise  # a bug in a query, not something the user can fix
        todo_zh, todo_en = _what_to_do(low)
        raise DatabaseUnavailable(
            f"无法连接数据库 {where}：{first}{todo_zh}",
            f"Cannot reach the database {where}: {first}{todo_en}",
        ) from exc


def _what_to_do(low: str) -> tuple[str, str]:
    """What a person does about a connection that failed (zh, en), from the driver's words."""
    if "connection refused" in low:
        return (
            "。数据库服务器没有在这个地址和端口上运行：请确认服务器已开机、PostgreSQL 在运行、地址和端口无误、"
            "防火墙放行",
            ". No database server answers at this address and port: check that the server is on, PostgreSQL "
            "is running, the address and port are right and the firewall lets it through",
        )
    if "could not translate host name" in low or "name or service not known" in low:
        return (
            "。找不到这个服务器名：请检查地址拼写和本机的网络连接",
            ". The server's name is unknown: check its spelling and this machine's network",
        )
    if "timeout" in low or "timed out" in low:
        return (
            "。服务器没有应答：请检查网络连接（网线、Wi-Fi）",
            ". The server did not answer: check the network (cable, Wi-Fi)",
        )
    if "password authentication failed" in low:
        return (
            "。用户名或密码不对：请核对配置中的数据库地址（kiosk setup 可重新设置）",
            ". Wrong user or password: check the database URL in the config (kiosk setup sets it again)",
        )
    return "", ""


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


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A Core connection in a transaction that takes the write lock at once on SQLite (``BEGIN
    IMMEDIATE``), as ``write_session`` does without the ORM (the sign-in's hot path). Commits on
    success, rolls back on error."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def open_store(
    url: str, *, synchronous: str = "FULL", require_schema: bool = True, create: bool = False
) -> Engine:
    """Open a database for use: connect once, and check that its schema is at the latest migration.

    A SQLite file that does not exist is an error (never made empty here: see ``make_engine``)."""
    engine = make_engine(url, synchronous=synchronous, create=create)
    try:
        with translate_errors(url), engine.connect() as conn:
            if require_schema:
                check_current(conn, url)
    except BaseException:
        engine.dispose()
        raise
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


def _private_store_file(database: str) -> None:
    """A SQLite store (and its -wal/-shm) readable by its owner only: it holds personal data (a shared
    file: full ID numbers, bank cards). Files of another user are left as they are."""
    if os.name == "nt":  # pragma: no cover - POSIX modes only
        return
    for name in (database, database + "-wal", database + "-shm"):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to change
            st = os.stat(name)
            if st.st_uid == os.getuid() and st.st_mode & 0o077:
                os.chmod(name, 0o600)


def private_folder(path: Path) -> Path:
    """Make ``path`` (and its missing parents) a folder only its owner may enter (0700): where a store
    or a key lives. A folder that exists already is tightened when it is ours."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for p in missing:
        with contextlib.suppress(OSError):
            os.chmod(p, 0o700)  # mkdir's mode is masked by the umask
    with contextlib.suppress(OSError):
        st = path.stat()
        if os.name != "nt" and st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, 0o700)
    return path
