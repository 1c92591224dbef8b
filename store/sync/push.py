"""Push: what a kiosk recorded (its own Kiosk row, attempts, attendance, gate photos, its event log) into
the shared database.

The kiosk's own writes carry the kiosk's revisions (store/db/revision.py); pulled rows carry 0. So "to
push" is every row with ``rev > push cursor``, taken in batches in revision order. Each batch goes
into the shared database in ONE transaction, and only after it commits does the kiosk move its cursor
past it. A push cut in the middle therefore loses nothing: the unfinished batch rolled back, and the
next push sends it again. Sending a batch twice changes nothing: rows keep their UUIDs and are inserted
with ``ON CONFLICT DO NOTHING`` (both dialects).

Every pushed row gets a fresh shared revision (the other kiosks and the roster pull by it; on PostgreSQL
the revision functions NOTIFY them, see store/sync/live.py).

The shared database does not take a kiosk's word for it. On PostgreSQL a batch is ONE call of
``kiosk_push`` (migration 0004, SECURITY DEFINER): a kiosk login has no right to write any table
itself, and the function accepts from it only rows of its own kiosk (one login per kiosk, bound at
its first push or by ``kiosk db roles --kiosk``), attempts and first sign-in times no more than
5 minutes ahead of the shared clock or 7 days behind it, and attendance of a worker employed on the
project that day. On both dialects, an attendance is believed only with the attempt that made it in
the same batch (same kiosk, worker, project and day, ``signed_in``, within 2 s of ``first_at``). A
refused row (and the attempt behind it) is kept in ``pushrejection`` with the reason, for the
administrator; the rest of the batch goes in.

One attendance per worker, project and work date, the earliest wins — decided in the shared database: a
pushed attendance whose day the shared database already holds under another id is compared by
``first_at`` (then id, to break a tie).
Earlier: it replaces the shared row. Later: it is dropped. Either way every successful attempt of that
day is then pointed at the winner, ``signed_in`` for the winner's own attempt and ``already`` for all
others, so the supervisor still sees the loser's scan, as an ``already``. Kiosks learn the winner on
their next pull (store/sync/pull.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.engine import Connection, Engine

from store.db.models import Attendance, Departure, GatePhoto, Kiosk, KioskEvent, PushRejection, SignInAttempt
from store.db.revision import current_revision, take_revisions
from store.reasons import Outcome
from store.sync.pull import dialect_insert, table_of
from store.sync.state import KIOSK_ID, PUSH_REV, int_state, read_state, write_state
from store.timeutil import utcnow

BATCH = 2000
PHOTO_BATCH = 100

Key = tuple[uuid.UUID, uuid.UUID, date]
Progress = Callable[[str, int], None]

_SUCCESS = (Outcome.SIGNED_IN.value, Outcome.ALREADY.value)
#: an attendance's first_at and its own attempt's time are one sign-in: at most this far apart
SAME_SIGN_IN_S = 2.0


@dataclass(frozen=True, slots=True)
class PushResult:
    rows: dict[str, int]  # sent, by table
    batches: int
    rev: int  # the kiosk's revision pushed up to
    conflicts: int = 0  # days another kiosk had signed in too (settled: earliest wins)
    rejected: int = 0  # rows the shared database refused (kept in its pushrejection table)


#: sends one batch (rows by table) for the kiosk and answers how the other side took it
Sender = Callable[[dict[Table, list[dict[str, Any]]], "uuid.UUID | None"], "BatchResult"]


def push(
    local: Engine,
    shared: Engine,
    *,
    photos: bool = True,
    batch: int = BATCH,
    photo_batch: int = PHOTO_BATCH,
    on_progress: Progress | None = None,
) -> PushResult:
    """Send everything the kiosk has not pushed yet straight into a shared database (the office's
    path, and the old kiosks' one). Raises driver errors as they come (the cursor then stays at the
    last batch that committed)."""

    def send(pages: dict[Table, list[dict[str, Any]]], me: uuid.UUID | None) -> BatchResult:
        att, sa, gp = table_of(Attendance), table_of(SignInAttempt), table_of(GatePhoto)
        with shared.begin() as sconn:
            return apply_batch(
                sconn,
                pages.get(sa, []),
                pages.get(att, []),
                pages.get(gp, []),
                pages.get(table_of(Kiosk), []),
                pages.get(table_of(KioskEvent), []),
                kiosk_id=me,
                departures=pages.get(table_of(Departure), []),
            )

    return push_via(local, send, photos=photos, batch=batch, photo_batch=photo_batch, on_progress=on_progress)


def push_via(
    local: Engine,
    send: Sender,
    *,
    photos: bool = True,
    batch: int = BATCH,
    photo_batch: int = PHOTO_BATCH,
    on_progress: Progress | None = None,
) -> PushResult:
    """Send everything the kiosk has not pushed yet, batch by batch, through ``send`` (the site service:
    store/sync/client.py). The push cursor moves after each batch the other side took; a batch cut on
    the way is sent again (rows are keyed by their UUIDs: idempotent)."""
    att, sa, gp, kt = table_of(Attendance), table_of(SignInAttempt), table_of(GatePhoto), table_of(Kiosk)
    ev, dep = table_of(KioskEvent), table_of(Departure)
    limits = {kt: batch, sa: batch, att: batch, ev: batch, dep: batch} | ({gp: photo_batch} if photos else {})
    counts: dict[str, int] = {}
    batches = conflicts = rejected = 0
    with local.connect() as lconn:
        state = read_state(lconn)
        cursor = int_state(state, PUSH_REV)
        me = uuid.UUID(state[KIOSK_ID]) if state.get(KIOSK_ID) else None
        high = current_revision(lconn)
        lconn.rollback()
        while cursor < high:
            # up to `limit` rows of each table; the batch ends where the shortest full page ends
            pages: dict[Table, list[dict[str, Any]]] = {}
            end = high
            for table, limit in limits.items():
                q = (
                    select(table)
                    .where(table.c.rev > cursor, table.c.rev <= high)
                    .order_by(table.c.rev)
                    .limit(limit)
                )
                pages[table] = [dict(r) for r in lconn.execute(q).mappings()]
                if len(pages[table]) == limit:
                    end = min(end, pages[table][-1]["rev"])
            pages = {t: [r for r in rows if r["rev"] <= end] for t, rows in pages.items()}
            pages[sa] += _attempts_behind(lconn, sa, pages[sa], pages[att])
            lconn.rollback()  # no local transaction stays open while the batch travels
            got = send(pages, me)
            conflicts += got.contested
            rejected += got.rejected
            with lconn.begin():
                write_state(lconn, {PUSH_REV: str(end)})
            batches += 1
            for table, rows in pages.items():
                if rows:
                    counts[table.name] = counts.get(table.name, 0) + len(rows)
                    if on_progress:
                        on_progress(table.name, len(rows))
            cursor = end
    return PushResult(counts, batches, cursor, conflicts, rejected)


def _attempts_behind(
    lconn: Connection, sa: Table, attempts: list[dict[str, Any]], attendance: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The attempts behind this batch's attendance that fell into another batch: they go along (an
    attendance is believed only with its attempt in the same batch; sending an attempt twice is harmless)."""
    have = {r["id"] for r in attempts}
    missing = [
        r["attempt_id"] for r in attendance if r["attempt_id"] is not None and r["attempt_id"] not in have
    ]
    found: list[dict[str, Any]] = []
    for i in range(0, len(missing), 900):
        found += [
            dict(r) for r in lconn.execute(select(sa).where(sa.c.id.in_(missing[i : i + 900]))).mappings()
        ]
    return found


@dataclass(frozen=True, slots=True)
class BatchResult:
    contested: int = 0  # days two kiosks both signed the worker in
    rejected: int = 0  # rows refused and recorded


def apply_batch(
    conn: Connection,
    attempts: Sequence[dict[str, Any]],
    attendance: Sequence[dict[str, Any]],
    photos: Sequence[dict[str, Any]] = (),
    kiosks: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    *,
    kiosk_id: uuid.UUID | None = None,
    departures: Sequence[dict[str, Any]] = (),
) -> BatchResult:
    """Apply one batch inside the caller's shared transaction (PostgreSQL: ``kiosk_push`` and, for the
    kiosk's event log, ``kiosk_push_events``, for its departures ``kiosk_push_departures``: a kiosk login
    writes through these functions only)."""
    if conn.dialect.name == "postgresql":
        got = conn.execute(
            text(
                "SELECT kiosk_push(:kiosk, CAST(:kiosks AS jsonb), CAST(:attempts AS jsonb), "
                "CAST(:photos AS jsonb), CAST(:attendance AS jsonb))"
            ),
            {
                "kiosk": kiosk_id,
                "kiosks": _json(kiosks),
                "attempts": _json(attempts),
                "photos": _json(photos),
                "attendance": _json(attendance),
            },
        ).scalar_one()
        rejected = int(got["rejected"])
        if events:
            rejected += int(
                conn.execute(
                    text("SELECT kiosk_push_events(:kiosk, CAST(:events AS jsonb))"),
                    {"kiosk": kiosk_id, "events": _json(events)},
                ).scalar_one()
            )
        if departures:
            rejected += int(
                conn.execute(
                    text("SELECT kiosk_push_departures(:kiosk, CAST(:rows AS jsonb))"),
                    {"kiosk": kiosk_id, "rows": _json(departures)},
                ).scalar_one()
            )
        return BatchResult(int(got["contested"]), rejected)
    got = _apply_batch_here(conn, attempts, attendance, photos, kiosks, events)
    merge_departures(conn, departures, utcnow())
    return got


def merge_departures(conn: Connection, rows: Sequence[dict[str, Any]], now: Any) -> int:
    """出场 rows into a SQLite shared database (every writer trusted): one a day, the one that ranks first
    (a correction, else the earliest, else the smaller id: ``direction.departure_rank``) — the same rule
    as ``kiosk_push_departures`` on PostgreSQL. Sending a row twice changes nothing. Returns rows written."""
    from store.rules.direction import departure_rank

    if not rows:
        return 0
    dep = table_of(Departure)
    take_revisions(conn, 0)
    held = _days_held_departures(conn, dep, rows)
    written = 0
    for row in sorted(rows, key=lambda r: departure_rank(r["method"], r["at"], r["id"])):
        key = _key(row)
        h = held.get(key)
        if h is not None:
            if h["id"] == row["id"] or departure_rank(h["method"], h["at"], h["id"]) <= departure_rank(
                row["method"], row["at"], row["id"]
            ):
                continue
            conn.execute(delete(dep).where(dep.c.id == h["id"]))
        _insert_new(conn, dep, [row], now)
        held[key] = row
        written += 1
    return written


def _days_held_departures(
    conn: Connection, dep: Table, rows: Sequence[dict[str, Any]]
) -> dict[Key, dict[str, Any]]:
    wanted = {_key(r) for r in rows}
    workers = list({k[0] for k in wanted})
    dates = list({k[2] for k in wanted})
    held: dict[Key, dict[str, Any]] = {}
    for i in range(0, len(workers), 900):
        q = select(
            dep.c.id, dep.c.worker_id, dep.c.project_id, dep.c.work_date, dep.c.at, dep.c.method
        ).where(dep.c.worker_id.in_(workers[i : i + 900]), dep.c.work_date.in_(dates))
        for m in conn.execute(q).mappings():
            if _key(m) in wanted:
                held[_key(m)] = dict(m)
    return held


def _json(rows: Sequence[dict[str, Any]]) -> str:
    def enc(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return str(v)
        if isinstance(v, date | datetime):
            return v.isoformat()
        if isinstance(v, bytes):
            return "\\x" + v.hex()  # bytea's input format
        raise TypeError(type(v).__name__)

    return json.dumps(list(rows), default=enc)


def _unbacked(attempts: Sequence[dict[str, Any]], attendance: Sequence[dict[str, Any]]) -> dict[Any, str]:
    """Attendance id -> why it is not believed: no attempt behind it in the batch, or not the same sign-in."""
    by_id = {r["id"]: r for r in attempts}
    out: dict[Any, str] = {}
    for t in attendance:
        b = by_id.get(t["attempt_id"])
        if b is None:
            out[t["id"]] = "no_attempt_in_batch"
        elif b["outcome"] != Outcome.SIGNED_IN.value or any(
            b[c] != t[c] for c in ("worker_id", "project_id", "work_date", "kiosk_id")
        ):
            out[t["id"]] = "attempt_does_not_match"
        elif abs((t["first_at"] - b["at"]).total_seconds()) > SAME_SIGN_IN_S:
            out[t["id"]] = "first_at_not_attempt_time"
    return out


def _reject(conn: Connection, now: Any, table: str, row: dict[str, Any], reason: str) -> None:
    detail = _json([{k: v for k, v in row.items() if k != "jpeg"}])[1:-1]
    conn.execute(
        table_of(PushRejection).insert(),
        {
            "id": uuid.uuid4(),
            "at": now,
            "kiosk_id": row.get("kiosk_id"),
            "table_name": table,
            "row_id": row.get("id"),
            "reason": reason,
            "detail": detail,
        },
    )


def _apply_batch_here(
    conn: Connection,
    attempts: Sequence[dict[str, Any]],
    attendance: Sequence[dict[str, Any]],
    photos: Sequence[dict[str, Any]],
    kiosks: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]] = (),
) -> BatchResult:
    """The same rules in Python, for a SQLite shared file (it has no logins: every writer is trusted)."""
    take_revisions(conn, 0)  # SQLite: the write lock at once, for the whole batch
    att, sa, gp = table_of(Attendance), table_of(SignInAttempt), table_of(GatePhoto)
    now = utcnow()
    refused = _unbacked(attempts, attendance)
    if refused:
        pushed_before = set(_existing(conn, att, list(refused)))
        refused = {
            k: v for k, v in refused.items() if k not in pushed_before
        }  # pushed before: nothing to say
    by_id = {r["id"]: r for r in attempts}
    dropped_attempts: set[Any] = set()
    for t in attendance:
        if t["id"] in refused:
            _reject(conn, now, "attendance", t, refused[t["id"]])
            if t["attempt_id"] in by_id and t["attempt_id"] not in dropped_attempts:
                _reject(conn, now, "signinattempt", by_id[t["attempt_id"]], refused[t["id"]])
                dropped_attempts.add(t["attempt_id"])
    attempts = [r for r in attempts if r["id"] not in dropped_attempts]
    attendance = [r for r in attendance if r["id"] not in refused]
    photos = [r for r in photos if r["attempt_id"] not in dropped_attempts]
    _upsert_kiosks(conn, kiosks, now)
    _insert_new(conn, sa, attempts, now)
    _insert_new(conn, gp, photos, now)
    _insert_new(conn, table_of(KioskEvent), events, now)

    # attendance: the earliest of each day wins
    shared_days = _days_held(conn, att, [_key(r) for r in attendance])
    held_ids = set(_existing(conn, att, [r["id"] for r in attendance]))
    winners: list[dict[str, Any]] = []
    losers: list[uuid.UUID] = []
    contested: set[Key] = set()
    for row in sorted(attendance, key=lambda r: (r["first_at"], str(r["id"]))):
        if row["id"] in held_ids:
            continue  # pushed before
        key = _key(row)
        held = shared_days.get(key)
        if held is None:
            winners.append(row)
            shared_days[key] = row
            continue
        contested.add(key)
        if (row["first_at"], str(row["id"])) < (held["first_at"], str(held["id"])):
            winners = [w for w in winners if w["id"] != held["id"]]
            if held["id"] not in {w["id"] for w in attendance}:
                losers.append(held["id"])
            winners.append(row)
            shared_days[key] = row
    if losers:
        conn.execute(delete(att).where(att.c.id.in_(losers)))
    _insert_new(conn, att, winners, now)

    # successful attempts whose attendance the shared database does not hold: their day was contested
    # (here or in an earlier batch), or their attendance comes in a later batch (nothing to do yet)
    pointed = {r["attendance_id"] for r in attempts if r["outcome"] in _SUCCESS and r["attendance_id"]}
    present = set(_existing(conn, att, list(pointed)))
    for r in attempts:
        if (
            r["outcome"] in _SUCCESS
            and r["attendance_id"] not in present
            and r["worker_id"]
            and r["project_id"]
        ):
            contested.add((r["worker_id"], r["project_id"], r["work_date"]))
    for key in contested:
        _point_attempts_at_winner(conn, key, now)
    return BatchResult(len(contested), len(refused) + len(dropped_attempts))


def apply_checked(
    conn: Connection,
    attempts: Sequence[dict[str, Any]],
    attendance: Sequence[dict[str, Any]],
    photos: Sequence[dict[str, Any]] = (),
    kiosks: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    *,
    departures: Sequence[dict[str, Any]] = (),
) -> BatchResult:
    """The merge rules (earliest sign-in wins, one departure a day by ``direction.departure_rank``, every
    scan kept) applied to rows the service has checked (store/sync/checks.py), on either dialect, inside the
    caller's transaction."""
    got = _apply_batch_here(conn, attempts, attendance, photos, kiosks, events)
    merge_departures(conn, departures, utcnow())
    return got


def _key(row: Any) -> Key:
    if isinstance(row, dict):
        return (row["worker_id"], row["project_id"], row["work_date"])
    return (row.worker_id, row.project_id, row.work_date)


def _insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], now: Any) -> None:
    if not rows:
        return
    last = take_revisions(conn, len(rows))
    first = last - len(rows) + 1
    out = [{**r, "rev": first + i, "updated_at": now} for i, r in enumerate(rows)]
    conn.execute(dialect_insert(conn, table).on_conflict_do_nothing(), out)


def _upsert_kiosks(conn: Connection, rows: Sequence[dict[str, Any]], now: Any) -> None:
    """The kiosk's own row (its name and place), so the roster can say which gate signed whom in."""
    if not rows:
        return
    table = table_of(Kiosk)
    last = take_revisions(conn, len(rows))
    out = [{**r, "rev": last - len(rows) + 1 + i, "updated_at": now} for i, r in enumerate(rows)]
    stmt = dialect_insert(conn, table)
    changing = ("name", "project_id", "latitude", "longitude", "last_seen_at", "updated_at", "rev")
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[table.c.id], set_={c: stmt.excluded[c] for c in changing}),
        out,
    )


def _existing(conn: Connection, table: Table, ids: list[Any]) -> list[Any]:
    found: list[Any] = []
    for i in range(0, len(ids), 900):
        found += conn.execute(select(table.c.id).where(table.c.id.in_(ids[i : i + 900]))).scalars().all()
    return found


def _days_held(conn: Connection, att: Table, keys: list[Key]) -> dict[Key, dict[str, Any]]:
    wanted = set(keys)
    workers = list({k[0] for k in keys})
    dates = list({k[2] for k in keys})
    held: dict[Key, dict[str, Any]] = {}
    for i in range(0, len(workers), 900):
        q = select(att.c.id, att.c.worker_id, att.c.project_id, att.c.work_date, att.c.first_at).where(
            att.c.worker_id.in_(workers[i : i + 900]), att.c.work_date.in_(dates)
        )
        for m in conn.execute(q).mappings():
            key = _key(m)
            if key in wanted:
                held[key] = dict(m)
    return held


def _point_attempts_at_winner(conn: Connection, key: Key, now: Any) -> None:
    att, sa = table_of(Attendance), table_of(SignInAttempt)
    win = conn.execute(
        select(att.c.id, att.c.attempt_id).where(
            att.c.worker_id == key[0], att.c.project_id == key[1], att.c.work_date == key[2]
        )
    ).first()
    if win is None:
        return
    rows = conn.execute(
        select(sa.c.id, sa.c.outcome, sa.c.attendance_id).where(
            sa.c.worker_id == key[0],
            sa.c.project_id == key[1],
            sa.c.work_date == key[2],
            sa.c.outcome.in_(_SUCCESS),
        )
    ).all()
    for r in rows:
        outcome = Outcome.SIGNED_IN.value if r.id == win.attempt_id else Outcome.ALREADY.value
        if r.outcome != outcome or r.attendance_id != win.id:
            rev = take_revisions(conn, 1)
            conn.execute(
                update(sa)
                .where(sa.c.id == r.id)
                .values(outcome=outcome, attendance_id=win.id, rev=rev, updated_at=now)
            )
