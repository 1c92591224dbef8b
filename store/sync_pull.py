"""Pull: reference data and attendance from the shared database into a kiosk's local store.

One read transaction on the shared database (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite)
sees a consistent state: its revision counter ``high`` and every row with ``rev > cursor``, table by
table in foreign-key order, streamed in batches. Each batch is written to the local store in its own
short transaction (bulk Core upserts by id), so a sign-in on the kiosk never waits behind the network.
The cursor moves to ``high`` only after the last batch: a pull cut in the middle is simply repeated
(upserts are idempotent).

What a kiosk gets (PIPL minimisation): never a worker's full ID number, identity documents, face checks
or bank cards (the ``has_bank_card`` flag is enough), never the notes of a health check; the face
thumbnail only when configured. Tombstones (``deleted_at``) and revocations are ordinary updates and
come with the rest.

Pulled rows are written with ``rev = 0`` on the kiosk: the kiosk's own revisions mark what it wrote
itself, which is exactly what it still has to push (``rev > push cursor``).

Attendance: the shared database keeps one per worker, project and work date (the earliest, see
``store/sync_push.py``). When the pulled row for a day differs from the kiosk's, the kiosk's row is
replaced by the shared one and the kiosk's attempts that pointed to it become ``already`` attempts of
the winner — unless the kiosk's row is earlier and not pushed yet (then the next push decides).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.engine import Connection, Engine

from store.models import (
    Attendance,
    Employer,
    Employment,
    HealthCheck,
    HealthInstitution,
    IssuerKey,
    Kiosk,
    Officer,
    OfficerAssignment,
    Project,
    SignInAttempt,
    Stamped,
    Worker,
)
from store.reasons import Outcome
from store.revision import current_revision
from store.sync_state import PULL_REV, PUSH_REV, int_state, read_state, write_state
from store.timeutil import local_date, utcnow

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
    Kiosk,
    Attendance,
)

#: columns that never leave the shared database
NEVER_PULLED: dict[type[Stamped], frozenset[str]] = {
    Worker: frozenset({"id_number"}),
    HealthCheck: frozenset({"result_note"}),
}

BATCH = 5000
#: attendance of these many past days (and today) is pulled: what `already` needs, not the archive
ATTENDANCE_DAYS = 2

Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class PullResult:
    rows: dict[str, int]
    rev: int  # the shared revision the kiosk is now at
    replaced: int = 0  # kiosk attendance rows replaced by the shared database's earlier one


def table_of(model: type[Stamped]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


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


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or overwrite the columns given where the id exists (both dialects)."""
    if not rows:
        return
    stmt = dialect_insert(conn, table)
    cols = [c for c in rows[0] if c != "id"]
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={c: stmt.excluded[c] for c in cols})
    conn.execute(stmt, list(rows))


def pull(
    local: Engine,
    shared: Engine,
    *,
    face_thumbs: bool = False,
    batch: int = BATCH,
    today: date | None = None,
    on_progress: Progress | None = None,
) -> PullResult:
    """Bring the kiosk up to the shared database's current revision. Raises driver errors as they come."""
    with local.connect() as lconn:
        state = read_state(lconn)
        lconn.rollback()
    cursor, pushed = int_state(state, PULL_REV), int_state(state, PUSH_REV)
    counts: dict[str, int] = {}
    replaced = 0
    with shared.connect() as sconn:
        if sconn.dialect.name == "postgresql":
            sconn = sconn.execution_options(isolation_level="REPEATABLE READ")
        with sconn.begin():
            high = current_revision(sconn)
            if high <= cursor:
                return PullResult(counts, cursor)
            since = (today or local_date(utcnow())) - timedelta(days=ATTENDANCE_DAYS)
            with local.connect() as lconn:
                lconn = lconn.execution_options(sqlite_begin="IMMEDIATE")
                for model in PULLED:
                    table = table_of(model)
                    cols = pulled_columns(model, face_thumbs=face_thumbs)
                    q = select(*(table.c[c] for c in cols)).where(table.c.rev > cursor).order_by(table.c.rev)
                    if model is Attendance:
                        q = q.where(table.c.work_date >= since)
                    result = sconn.execute(q, execution_options={"yield_per": batch})
                    for part in result.mappings().partitions(batch):
                        rows = [{**r, "rev": 0} for r in part]
                        with lconn.begin():
                            if model is Attendance:
                                rows, n = _settle_days(lconn, rows, pushed)
                                replaced += n
                            upsert(lconn, table, rows)
                        counts[table.name] = counts.get(table.name, 0) + len(rows)
                        if on_progress:
                            on_progress(table.name, len(rows))
                with lconn.begin():
                    write_state(lconn, {PULL_REV: str(high)})
    return PullResult(counts, high, replaced)


def _settle_days(conn: Connection, rows: list[dict[str, Any]], pushed: int) -> tuple[list[dict[str, Any]], int]:
    """Make room for pulled attendance whose day the kiosk holds under another id (see module doc)."""
    att = table_of(Attendance)
    workers = list({r["worker_id"] for r in rows})
    dates = list({r["work_date"] for r in rows})
    mine: dict[tuple[uuid.UUID, uuid.UUID, date], Any] = {}
    for i in range(0, len(workers), 900):
        q = select(att.c.id, att.c.worker_id, att.c.project_id, att.c.work_date, att.c.first_at, att.c.rev).where(
            att.c.worker_id.in_(workers[i : i + 900]), att.c.work_date.in_(dates)
        )
        for row in conn.execute(q):
            mine[(row.worker_id, row.project_id, row.work_date)] = row
    keep: list[dict[str, Any]] = []
    losers: list[dict[str, Any]] = []
    for r in rows:
        m = mine.get((r["worker_id"], r["project_id"], r["work_date"]))
        if m is None or m.id == r["id"]:
            keep.append(r)
        elif m.rev > pushed and (m.first_at, str(m.id)) < (r["first_at"], str(r["id"])):
            continue  # ours is earlier and not pushed yet: the next push settles it on the shared side
        else:
            keep.append(r)
            losers.append({"old": m.id, "new": r["id"]})
    if losers:
        sa = table_of(SignInAttempt)
        conn.execute(
            update(sa)
            .where(sa.c.attendance_id == bindparam("old"))
            .values(
                attendance_id=bindparam("new"),
                outcome=case((sa.c.outcome == Outcome.SIGNED_IN.value, Outcome.ALREADY.value), else_=sa.c.outcome),
            ),
            losers,
        )
        conn.execute(delete(att).where(att.c.id == bindparam("old")), [{"old": x["old"]} for x in losers])
    return keep, len(losers)

