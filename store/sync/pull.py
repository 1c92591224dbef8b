"""Pull: reference data and attendance from the shared database into a kiosk's local store.

One read transaction on the shared database (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite)
sees a consistent state: every row with ``cursor < rev <= high``, where ``high`` is the counter (SQLite)
or the safe revision read just before the snapshot (PostgreSQL, see store/db/revision.py), table by
table in foreign-key order, streamed in batches. Each batch is written to the local store in its own
short transaction (bulk Core upserts by id), so a sign-in on the kiosk never waits behind the network.
The cursor moves to ``high`` only after the last batch: a pull cut in the middle is simply repeated
(upserts are idempotent).

What a kiosk gets (PIPL minimisation): of a worker only what the rules and the officer's card use
(name, sex, birth date, masked ID number and its last four, real-name verification time, the
``has_bank_card`` flag; the face thumbnail only when configured) — never the full ID number, address,
mobile or ethnicity, identity documents, face checks or bank cards; never the notes of a health check;
no officer's mobile. Tombstones (``deleted_at``) and revocations are ordinary updates and
come with the rest.

Pulled rows are written with ``rev = 0`` on the kiosk: the kiosk's own revisions mark what it wrote
itself, which is exactly what it still has to push (``rev > push cursor``).

Attendance: the shared database keeps one per worker, project and work date (the earliest, see
``store/sync/push.py``). When the pulled row for a day differs from the kiosk's, the kiosk's row is
replaced by the shared one and the kiosk's attempts that pointed to it become ``already`` attempts of
the winner — unless the kiosk's row is earlier and not pushed yet (then the next push decides).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Boolean, Date, Table, Uuid, literal_column, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from store.db.changes import reference_changed
from store.db.models import (
    Attendance,
    Departure,
    DeviceKey,
    Employer,
    Employment,
    HealthCheck,
    HealthInstitution,
    IssuerKey,
    Kiosk,
    Officer,
    OfficerAssignment,
    Project,
    Stamped,
    Worker,
)
from store.db.revision import current_revision
from store.reasons import Outcome
from store.sync.state import PULL_REV, PUSH_REV, int_state, read_state, write_state
from store.timeutil import UTCDateTime, local_date, utcnow

# Part of db/models' REVISIONED in the same order (no ID images, face checks, bank cards, attempts, ...):
# spelled out so what a kiosk receives is read here, not derived.
#: pulled tables, parents first
PULLED: tuple[type[Stamped], ...] = (
    Employer,
    Project,
    Worker,
    HealthInstitution,
    HealthCheck,
    Employment,
    Officer,
    OfficerAssignment,
    IssuerKey,
    DeviceKey,
    Kiosk,
    Attendance,
    Departure,  # 出场 (issue 25): what 自动 mode and the officer's counters need, the same days as attendance
)

#: columns that never leave the shared database
NEVER_PULLED: dict[type[Stamped], frozenset[str]] = {
    Worker: frozenset({"id_number", "address", "mobile", "ethnicity", "realname_verified_by"}),
    HealthCheck: frozenset({"result_note"}),
    Officer: frozenset({"mobile"}),
}

BATCH = 10000
#: page cache of the pull's connection, KiB
CACHE_KIB = 256 * 1024
#: attendance of these many past days (and today) is pulled: what `already` needs, not the archive
ATTENDANCE_DAYS = 2

Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class PullResult:
    rows: dict[str, int]
    rev: int  # the shared revision the kiosk is now at
    replaced: int = 0  # kiosk attendance rows replaced by the shared database's earlier one


def table_of(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]  # sqlmodel does not declare __table__


def pulled_columns(model: type[Stamped], *, face_thumbs: bool) -> list[str]:
    never = set(NEVER_PULLED.get(model, ()))
    if model is Worker and not face_thumbs:
        never.add("face_thumb")
    return [c.name for c in table_of(model).columns if c.name not in never]


def dialect_insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _raw_expr(dialect: str, table: Table, name: str) -> str:
    """A column as the kiosk's SQLite stores it (hex UUID, ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, 0/1),
    computed by the shared database, so 100 000 rows cross without a Python conversion per value."""
    q = f'"{name}"'
    if name == "rev":
        return "0"  # pulled rows are not the kiosk's own writes (module doc)
    if dialect != "postgresql":
        return q  # a SQLite shared database stores the same text already
    t = table.c[name].type
    if isinstance(t, UTCDateTime):
        return f"to_char({q} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    if isinstance(t, Uuid):
        return f"replace({q}::text, '-', '')"
    if isinstance(t, Date):
        return f"to_char({q}, 'YYYY-MM-DD')"
    if isinstance(t, Boolean):
        return f"{q}::int"
    return q


def _upsert_sql(table: Table, cols: list[str]) -> str:
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != "id")
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {sets}'


def pull(
    local: Engine,
    shared: Engine,
    *,
    face_thumbs: bool = False,
    batch: int = BATCH,
    today: date | None = None,
    on_progress: Progress | None = None,
) -> PullResult:
    """Bring the kiosk up to the shared database's current revision. Raises driver errors as they come.

    The kiosk's store is SQLite (rows are written in its storage format directly)."""
    if local.dialect.name != "sqlite":
        raise ValueError("a kiosk's local store is a SQLite file")
    with local.connect() as lconn:
        state = read_state(lconn)
        lconn.rollback()
    cursor, pushed = int_state(state, PULL_REV), int_state(state, PUSH_REV)
    counts: dict[str, int] = {}
    replaced = 0
    with shared.connect() as sconn:
        if sconn.dialect.name == "postgresql":
            # the safe revision BEFORE the snapshot: every row up to it has committed, so the snapshot
            # holds them all (store/db/revision.py); rows of writers still running come next time
            high = current_revision(sconn)
            sconn.commit()
            sconn = sconn.execution_options(isolation_level="REPEATABLE READ")
        with sconn.begin():
            if sconn.dialect.name != "postgresql":
                high = current_revision(sconn)
            if high <= cursor:
                return PullResult(counts, cursor)
            since = (today or local_date(utcnow())) - timedelta(days=ATTENDANCE_DAYS)
            with local.connect() as lconn, _bulk_pragmas(lconn):
                lconn = lconn.execution_options(sqlite_begin="IMMEDIATE")
                for model in PULLED:
                    table = table_of(model)
                    cols = pulled_columns(model, face_thumbs=face_thumbs)
                    exprs: list[Any] = [literal_column(_raw_expr(sconn.dialect.name, table, c)) for c in cols]
                    q = (
                        select(*exprs)
                        .select_from(table)
                        .where(table.c.rev > cursor, table.c.rev <= high)
                        .order_by(table.c.rev)
                    )
                    if model is Attendance or model is Departure:
                        q = q.where(table.c.work_date >= since)
                    sql = _upsert_sql(table, cols)
                    result = sconn.execute(q, execution_options={"yield_per": batch})
                    first_load = model not in (Attendance, Departure) and _is_empty(lconn, table)
                    with _first_load(lconn, table) if first_load else nullcontext():
                        for rows in _prefetched(result, batch):
                            with nullcontext() if first_load else lconn.begin():
                                if model is Attendance:
                                    rows, n = _settle_days(lconn, cols, rows, pushed)
                                    replaced += n
                                elif model is Departure:
                                    rows = _settle_departures(lconn, cols, rows, pushed)
                                if rows:
                                    lconn.exec_driver_sql(sql, rows)
                            counts[table.name] = counts.get(table.name, 0) + len(rows)
                            if on_progress:
                                on_progress(table.name, len(rows))
                if counts:  # what sign-ins cached of workers and projects is stale (store/rules/facts.py)
                    reference_changed(local)
                with lconn.begin():
                    write_state(lconn, {PULL_REV: str(high)})
    return PullResult(counts, high, replaced)


_END = object()


def _prefetched(result: Any, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The result's rows in batches, fetched one batch ahead on a second thread, so the shared database
    produces the next batch while the kiosk writes this one (both wait outside the GIL)."""
    box: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for part in result.partitions(batch):
                if not put([tuple(r) for r in part]):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="sync-pull-fetch", daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _is_empty(conn: Connection, table: Table) -> bool:
    empty = conn.exec_driver_sql(f'SELECT 1 FROM "{table.name}" LIMIT 1').first() is None
    conn.rollback()
    return empty


@contextmanager
def _first_load(conn: Connection, table: Table) -> Iterator[None]:
    """A table the kiosk has no row of yet is filled in ONE transaction with its secondary indexes
    dropped and made again at the end (sorting once beats 100 000 random index inserts). DDL is
    transactional in SQLite: a pull cut in the middle leaves the table as it was, indexes included."""
    with conn.begin():
        saved = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table.name,),
        ).all()
        for name, _ in saved:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _, create in saved:
            conn.exec_driver_sql(create)


@contextmanager
def _bulk_pragmas(conn: Connection) -> Iterator[None]:
    """For the pull's connection only: a big page cache (100 000 rows land in random-id indexes),
    ``synchronous=NORMAL`` and no foreign-key checks. NORMAL is safe here: in WAL mode commits stay in
    order, so the cursor (the last commit) never survives a power cut that its rows did not; at worst the
    pull is done again. Foreign keys: the rows are a consistent snapshot of the shared database, which
    checked them; the kiosk's own writes (sign-ins, on other connections) are still checked."""
    raw: Any = conn.connection.driver_connection
    names = ("synchronous", "cache_size", "foreign_keys", "wal_autocheckpoint")
    old = {p: int(raw.execute(f"PRAGMA {p}").fetchone()[0]) for p in names}
    raw.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA wal_autocheckpoint=0")  # one checkpoint at the end, not one per thousand pages
    try:
        yield
    finally:
        for pragma, value in old.items():
            raw.execute(f"PRAGMA {pragma}={value}")
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _settle_days(
    conn: Connection, cols: list[str], rows: list[tuple[Any, ...]], pushed: int
) -> tuple[list[tuple[Any, ...]], int]:
    """Make room for pulled attendance whose day the kiosk holds under another id (see module doc).
    Rows are in the kiosk's storage format (hex ids, text dates and times: they sort as they compare)."""
    i_id, i_w, i_p, i_d, i_f = (
        cols.index(c) for c in ("id", "worker_id", "project_id", "work_date", "first_at")
    )
    workers = list({r[i_w] for r in rows})
    dates = list({r[i_d] for r in rows})
    mine: dict[tuple[Any, Any, Any], tuple[Any, ...]] = {}
    for i in range(0, len(workers), 900):
        part = workers[i : i + 900]
        sql = (
            "SELECT id, worker_id, project_id, work_date, first_at, rev FROM attendance "
            f"WHERE worker_id IN ({', '.join('?' * len(part))}) AND work_date IN ({', '.join('?' * len(dates))})"
        )
        for found in conn.exec_driver_sql(sql, (*part, *dates)):
            mine[(found[1], found[2], found[3])] = tuple(found)
    keep: list[tuple[Any, ...]] = []
    losers: list[tuple[Any, Any]] = []  # (winner, loser)
    for r in rows:
        m = mine.get((r[i_w], r[i_p], r[i_d]))
        if m is None or m[0] == r[i_id]:
            keep.append(r)
        elif m[5] > pushed and (m[4], m[0]) < (r[i_f], r[i_id]):
            continue  # ours is earlier and not pushed yet: the next push settles it on the shared side
        else:
            keep.append(r)
            losers.append((r[i_id], m[0]))
    if losers:
        conn.exec_driver_sql(
            "UPDATE signinattempt SET attendance_id = ?, "
            f"outcome = CASE WHEN outcome = '{Outcome.SIGNED_IN.value}' THEN '{Outcome.ALREADY.value}' ELSE outcome END "
            "WHERE attendance_id = ?",
            losers,
        )
        conn.exec_driver_sql("DELETE FROM attendance WHERE id = ?", [(old,) for _, old in losers])
    return keep, len(losers)


def _settle_departures(
    conn: Connection, cols: list[str], rows: list[tuple[Any, ...]], pushed: int
) -> list[tuple[Any, ...]]:
    """Make room for pulled departures whose day the kiosk holds under another id: the kiosk's row goes,
    unless it ranks first (a correction, else earlier) and is not pushed yet — the next push settles it
    on the shared side. Rows are in the kiosk's storage format (text times sort as they compare)."""
    i_id, i_w, i_p, i_d, i_at, i_m = (
        cols.index(c) for c in ("id", "worker_id", "project_id", "work_date", "at", "method")
    )
    workers = list({r[i_w] for r in rows})
    dates = list({r[i_d] for r in rows})
    mine: dict[tuple[Any, Any, Any], tuple[Any, ...]] = {}
    for i in range(0, len(workers), 900):
        part = workers[i : i + 900]
        sql = (
            "SELECT id, worker_id, project_id, work_date, at, method, rev FROM departure "
            f"WHERE worker_id IN ({', '.join('?' * len(part))}) AND work_date IN ({', '.join('?' * len(dates))})"
        )
        for found in conn.exec_driver_sql(sql, (*part, *dates)):
            mine[(found[1], found[2], found[3])] = tuple(found)

    def rank(method: Any, at: Any, row_id: Any) -> tuple[int, str, str]:
        return (0 if method == "manual" else 1, str(at), str(row_id))

    keep: list[tuple[Any, ...]] = []
    losers: list[tuple[Any]] = []
    for r in rows:
        m = mine.get((r[i_w], r[i_p], r[i_d]))
        if m is None or m[0] == r[i_id]:
            keep.append(r)
        elif m[6] > pushed and rank(m[5], m[4], m[0]) < rank(r[i_m], r[i_at], r[i_id]):
            continue
        else:
            keep.append(r)
            losers.append((m[0],))
    if losers:
        conn.exec_driver_sql("DELETE FROM departure WHERE id = ?", losers)
    return keep
