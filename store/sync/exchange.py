"""The service's side of kiosk sync (issue 24): what a verified kiosk may pull, and what it pushes.

``pull_page(engine, who, since=, high=, table=, after=)`` answers one page of a resumable pull: rows of one
table with ``since < rev <= high``, in ``(rev, id)`` order after the ``after`` key, scoped to the kiosk's
approved projects (``SCOPES``: their project rows, the workers employed there, their health checks and their
phones' device keys,
employment, officers assigned and their assignments, kiosks, recent attendance; trust-list keys and
reference tables whole). A row that comes into scope without changing (a worker newly employed in the
project) is pulled with the row that brought it in. The page says where the next one starts; the kiosk
keeps that in its store, so a cut pull resumes where it stopped.

``push_batch(engine, who, batch)`` checks every pushed row against what the kiosk can prove
(store/sync/checks.py) and applies the rest with the merge rules of store/sync/push.py (earliest
sign-in wins), one transaction, serialised per project on PostgreSQL so two kiosks' pushes of one
day settle in order.

Table lists (``PULLED`` in pull.py, ``PUSHED`` here) are the extension points: a new pulled table gets a
scope in ``SCOPES`` (or is pulled whole), a new pushed table an entry in ``PUSHED`` and a check.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Table, and_, literal_column, or_, select, text, tuple_
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.db.models import (
    Attendance,
    Departure,
    DeviceKey,
    Employment,
    GatePhoto,
    HealthCheck,
    Kiosk,
    KioskEvent,
    Officer,
    OfficerAssignment,
    Project,
    SignInAttempt,
    Stamped,
    Worker,
)
from store.db.revision import current_revision
from store.sync.keys import KioskPrincipal
from store.sync.pull import ATTENDANCE_DAYS, PULLED, _raw_expr, pulled_columns, table_of
from store.sync.wire import decode_rows
from store.timeutil import local_date, utcnow

PAGE = 20000

#: what a kiosk pushes, in the order it is applied (parents first): name on the wire -> table
PUSHED: dict[str, Table] = {
    "kiosk": table_of(Kiosk),
    "signinattempt": table_of(SignInAttempt),
    "attendance": table_of(Attendance),
    "departure": table_of(Departure),  # 出场 (issue 25)
    "gatephoto": table_of(GatePhoto),
    "kioskevent": table_of(KioskEvent),
}


def scope_key(projects: frozenset[uuid.UUID]) -> str:
    """A short fingerprint of a kiosk's projects: when it changes the kiosk pulls afresh."""
    return hashlib.sha256(",".join(sorted(map(str, projects))).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows a pull (or a look for changes) hands out: those written after the kiosk's cursor and
    up to ``high``.

    SQLite (one writer; commits come in revision order): ``since < rev <= high``, ``high`` the counter.

    PostgreSQL: commit-ordered by transaction snapshot, never by revision. Every write of a pulled
    table stamps the row with its transaction's id (``xid``, migration 0008: a default and a trigger),
    and a pull hands out only rows whose transaction is older than the snapshot's ``xmin``
    (``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below it has ended, on the primary
    and on any replica, so no row can still appear below the cursor later. ``since <= xid < high``,
    the cursor being the previous pull's ``xmin``. A transaction held open holds back only what was
    written after it began; nothing is skipped and nothing scans ``pg_locks``."""

    postgres: bool
    since: int
    high: int

    def visible(self, t: Table) -> ColumnElement[bool]:
        if self.postgres:
            return text(f'"{t.name}".xid < CAST(CAST({int(self.high)} AS text) AS xid8)')  # type: ignore[return-value]
        return t.c.rev <= self.high

    def fresh(self, t: Table) -> ColumnElement[bool]:
        if self.postgres:
            return and_(
                text(f'"{t.name}".xid >= CAST(CAST({int(self.since)} AS text) AS xid8)'), self.visible(t)
            )
        return and_(t.c.rev > self.since, self.visible(t))


def window_high(conn: Connection) -> int:
    """The ``high`` of a new window (see ``Window``)."""
    if conn.dialect.name == "postgresql":
        return int(
            conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one()
        )
    return current_revision(conn)


Scope = Callable[[Table, list[uuid.UUID], uuid.UUID, Window], ColumnElement[bool]]


def _employed(projects: list[uuid.UUID], w: Window | None = None) -> Any:
    e = table_of(Employment)
    q = select(e.c.worker_id).where(e.c.project_id.in_(projects))
    return q.where(w.fresh(e)) if w is not None else q


def _assigned(projects: list[uuid.UUID], w: Window | None = None) -> Any:
    a = table_of(OfficerAssignment)
    q = select(a.c.officer_id).where(a.c.project_id.in_(projects))
    return q.where(w.fresh(a)) if w is not None else q


def _by_people(column: str, people: Callable[..., Any]) -> Scope:
    """Rows of the people of these projects: changed in the window, or just come into scope."""

    def scope(t: Table, projects: list[uuid.UUID], me: uuid.UUID, w: Window) -> ColumnElement[bool]:
        c = t.c[column]
        return and_(c.in_(people(projects)), w.visible(t), or_(w.fresh(t), c.in_(people(projects, w))))

    return scope


#: table -> which of its rows a kiosk of these projects may see (missing: the whole table)
SCOPES: dict[type[Stamped], Scope] = {
    Project: lambda t, p, me, w: and_(t.c.id.in_(p), w.fresh(t)),
    Worker: _by_people("id", _employed),
    HealthCheck: _by_people("worker_id", _employed),
    # phone keys of the projects' workers (issue 27): a kiosk verifies their phone-signed codes
    DeviceKey: _by_people("worker_id", _employed),
    Employment: lambda t, p, me, w: and_(t.c.project_id.in_(p), w.fresh(t)),
    Officer: _by_people("id", _assigned),
    OfficerAssignment: lambda t, p, me, w: and_(t.c.project_id.in_(p), w.fresh(t)),
    Kiosk: lambda t, p, me, w: and_(or_(t.c.project_id.in_(p), t.c.id == me), w.fresh(t)),
    Attendance: lambda t, p, me, w: and_(t.c.project_id.in_(p), w.fresh(t)),
    Departure: lambda t, p, me, w: and_(t.c.project_id.in_(p), w.fresh(t)),
}


@dataclass(frozen=True, slots=True)
class PullPage:
    high: int
    table: str
    columns: list[str]
    binary: list[str]
    rows: list[list[Any]]
    #: where the next page starts: (table index, rev, id) or None when the pull is complete
    next: tuple[int, int, str] | None
    scope: str


def pull_high(engine: Engine) -> int:
    """The revision a new pull goes up to: every row at or below it has committed (store/db/revision.py)."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return window_high(conn)


def pull_page(
    engine: Engine,
    who: KioskPrincipal,
    *,
    since: int,
    high: int,
    table_index: int = 0,
    after: tuple[int, str] | None = None,
    limit: int = PAGE,
    face_thumbs: bool = False,
) -> PullPage:
    projects = sorted(who.projects)
    scope = scope_key(who.projects)
    if table_index >= len(PULLED) or high <= since:
        return PullPage(high, "", [], [], [], None, scope)
    model = PULLED[table_index]
    t = table_of(model)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        dialect = conn.dialect.name
        cols = pulled_columns(model, face_thumbs=face_thumbs)
        exprs: list[Any] = [literal_column(_raw_expr(dialect, t, c)) for c in cols]
        scoped = SCOPES.get(model)
        w = Window(dialect == "postgresql", since, high)
        where: list[Any] = [scoped(t, projects, who.kiosk_id, w) if scoped else w.fresh(t)]
        if model is Attendance:
            where.append(t.c.work_date >= local_date(utcnow()) - timedelta(days=ATTENDANCE_DAYS))
        if after is not None:
            where.append(tuple_(t.c.rev, t.c.id) > tuple_(after[0], uuid.UUID(after[1])))
        q = (
            select(*exprs, t.c.rev.label("_rev"), t.c.id.label("_id"))
            .select_from(t)
            .where(*where)
            .order_by(t.c.rev, t.c.id)
            .limit(limit)
        )
        got = conn.execute(q).all()
    binary = [c for c in cols if isinstance(t.c[c].type, LargeBinary)]
    bidx = [cols.index(c) for c in binary]
    rows: list[list[Any]] = []
    for r in got:
        row = list(r[: len(cols)])
        for i in bidx:
            if row[i] is not None:
                row[i] = base64.b64encode(bytes(row[i])).decode()
        rows.append(row)
    if len(got) == limit:
        nxt: tuple[int, int, str] | None = (table_index, int(got[-1][-2]), str(got[-1][-1]))
    elif table_index + 1 < len(PULLED):
        nxt = (table_index + 1, -1, "")
    else:
        nxt = None
    return PullPage(high, t.name, cols, binary, rows, nxt, scope)


# --- push ------------------------------------------------------------------------------------------


@dataclass
class PushOutcome:
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    contested: int = 0


def push_batch(engine: Engine, who: KioskPrincipal, batch: dict[str, Any]) -> PushOutcome:
    """Check and apply one pushed batch in one transaction (idempotent: rows are keyed by their UUIDs)."""
    from store.sync.checks import check_batch
    from store.sync.push import apply_checked

    rows = {name: decode_rows(t, batch.get(name, [])) for name, t in PUSHED.items()}
    with translate_errors(str(engine.url)), engine.begin() as conn:
        _lock_projects(conn, who)
        kept, rejected = check_batch(conn, who, rows)
        got = apply_checked(
            conn,
            kept["signinattempt"],
            kept["attendance"],
            kept["gatephoto"],
            kept["kiosk"],
            kept["kioskevent"],
            departures=kept["departure"],
        )
    return PushOutcome(
        {name: len(r) for name, r in kept.items() if r}, rejected + got.rejected, got.contested
    )


def _lock_projects(conn: Connection, who: KioskPrincipal) -> None:
    """PostgreSQL: pushes touching the same projects apply one after another (earliest wins needs to
    see the other kiosk's row); SQLite has one writer anyway."""
    if conn.dialect.name != "postgresql":
        return
    for p in sorted(who.projects):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(p)})


def _lock_key(p: uuid.UUID) -> int:
    return int.from_bytes(hashlib.sha256(b"kiosk-push:" + p.bytes).digest()[:8], "big", signed=True)


__all__ = ["PUSHED", "SCOPES", "PullPage", "PushOutcome", "pull_high", "pull_page", "push_batch", "scope_key"]


# --- what changed, for the service's long-poll (kiosk/serve/sync_hub.py) ---------------------------


@dataclass(frozen=True, slots=True)
class Changes:
    """Pulled rows written since a revision: whether any concerns every kiosk (a trust-list key, a worker,
    an employer), and otherwise by project the kiosks that wrote them (None: the office)."""

    high: int
    everyone: bool = False
    by_project: dict[uuid.UUID, set[uuid.UUID | None]] = field(default_factory=dict)

    def concerns(self, projects: frozenset[uuid.UUID], kiosk: uuid.UUID) -> bool:
        """Whether a kiosk of these projects would pull something it did not write itself."""
        if self.everyone:
            return True
        return any(p in projects and writers != {kiosk} for p, writers in self.by_project.items())


#: pulled tables by the project column that says whose they are, and the column naming the kiosk
#: that wrote them (tables missing here concern every kiosk)
PROJECT_OF: dict[type[Stamped], tuple[str, str | None]] = {
    Project: ("id", None),
    Employment: ("project_id", None),
    OfficerAssignment: ("project_id", None),
    Kiosk: ("project_id", "id"),
    Attendance: ("project_id", "kiosk_id"),
    Departure: ("project_id", "kiosk_id"),
}


def changes_since(engine: Engine, since: int) -> Changes:
    """What pulled tables changed above ``since`` (a handful of index range scans on ``rev``)."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        high = window_high(conn)
        if high <= since:
            return Changes(high)
        w = Window(conn.dialect.name == "postgresql", since, high)
        everyone = False
        by_project: dict[uuid.UUID, set[uuid.UUID | None]] = {}
        for model in PULLED:
            t = table_of(model)
            where = w.fresh(t)
            spec = PROJECT_OF.get(model)
            if spec is None:
                if conn.execute(select(t.c.id).where(where).limit(1)).first() is not None:
                    everyone = True
                continue
            pcol, kcol = spec
            cols = [t.c[pcol], t.c[kcol] if kcol else literal_column("NULL")]
            for p, k in conn.execute(select(*cols).where(where).distinct()):
                if p is None:
                    everyone = True
                else:
                    by_project.setdefault(p, set()).add(k)
        return Changes(high, everyone, by_project)
