"""The supervisor's roster of one day: who is expected, signed in, not yet there or refused on a project's
work date, and the evacuation list. The month is in ``store.roster.month``, a worker's history in
``store.roster.history``, refused attempts in ``store.roster.refused``.

Every function here reads with a handful of set-based queries (never one query per worker), so a
roster of 5 000 workers refreshes in a few tens of milliseconds on SQLite and PostgreSQL alike
(``bench/roster.py``). Days are the project's local dates: ``Attendance.work_date`` and
``SignInAttempt.work_date`` are already computed in the project's time zone by the sign-in service.

Definitions (also in the README):

- **expected**: workers with a current (start ≤ day ≤ end), confirmed, not deleted employment on the
  project that day;
- **signed in**: workers with an attendance on the project that day (expected or not);
- **not yet**: expected workers without an attendance;
- **refused**: refused attempts that day (every refused scan, including unreadable or unknown codes);
  a worker with no attendance and at least one refusal has the status ``refused``.
- **on site now**: signed in today and not left (no departure that day, store/rules/direction.py);
- **left**: signed in today and left since (a scanned, automatic or corrected departure).

No full ID number ever leaves this module: rows carry ``Worker.id_number_masked`` only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.projects import ProjectInfo, project_info
from store.reasons import Outcome, Reason, Way
from store.roster.tables import (
    ATT,
    ATT_T,
    DEP,
    EMP,
    EMP_T,
    EMR,
    EMR_T,
    KI,
    KI_T,
    PRJ,
    SIA,
    WK,
    WK_T,
    as_uuid,
    current_on,
    employments_of,
    raw_id,
)


class Status(StrEnum):
    SIGNED_IN = "signed_in"
    NOT_YET = "not_yet"
    REFUSED = "refused"

    def label(self, lang: str = "zh") -> str:
        return _STATUS[self][1 if lang == "en" else 0]


_STATUS = {
    Status.SIGNED_IN: ("已签到", "signed in"),
    Status.NOT_YET: ("未签到", "not yet"),
    Status.REFUSED: ("被拒", "refused"),
}


PHONE = ("手机", "phone")


def where_label(way: str | None, kiosk: str | None, lang: str = "zh") -> str:
    """Where a sign-in happened: the kiosk's name, or 手机/phone for way A without a kiosk."""
    if kiosk:
        return kiosk
    if way == Way.A.value:
        return PHONE[1 if lang == "en" else 0]
    return ""


def reason_message(code: str | None, lang: str = "zh") -> str:
    """The zh/en message of a stored reason code (the code itself when it is not a known one)."""
    if not code:
        return ""
    try:
        return Reason(code).message(lang)
    except ValueError:
        return code


@dataclass(slots=True)
class RosterRow:
    #: the worker's id as the driver returned it (hex text on SQLite): a key; see ``worker_id``
    key: Any
    name: str
    id_masked: str
    id_last4: str
    employer: str
    team: str
    trade: str
    expected: bool
    status: Status
    first_at: datetime | None = None  # UTC
    way: str | None = None
    kiosk: str | None = None
    refusals: int = 0
    last_reason: str | None = None  # a Reason value
    left_at: datetime | None = None  # UTC: his departure today (出场), if any
    left_method: str | None = None  # a direction.Method value

    @property
    def on_site(self) -> bool:
        """Signed in today and not left."""
        return self.status is Status.SIGNED_IN and self.left_at is None

    @property
    def worker_id(self) -> uuid.UUID:
        return as_uuid(self.key)

    @property
    def row_key(self) -> str:
        """A stable text key (for a table's row keys)."""
        return self.key.hex if isinstance(self.key, uuid.UUID) else str(self.key)


@dataclass(frozen=True, slots=True)
class Counts:
    expected: int
    signed_in: int
    not_yet: int
    refused: int
    on_site: int = 0  # signed in and not left
    left: int = 0  # signed in and left since


@dataclass(slots=True)
class Roster:
    project: ProjectInfo
    day: date
    rows: list[RosterRow]  # sorted by employer, team, name
    counts: Counts
    #: the highest revision of attendance (and departures) and attempts seen: unchanged means nothing new
    mark: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class EvacuationGroup:
    employer: str
    team: str
    rows: list[RosterRow]

    @property
    def count(self) -> int:
        return len(self.rows)


# A report dataclass with a total, like retention's RetentionReport: two reports.
@dataclass(slots=True)
class Evacuation:
    project: ProjectInfo
    day: date
    groups: list[EvacuationGroup] = field(default_factory=list)
    left: int = 0  # signed in today and left since: not on the list
    made_at: datetime | None = None  # UTC: when the list was made (its title says it)

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def _revision_mark(conn: Connection, project_id: uuid.UUID, day: date) -> tuple[int, int]:
    a = conn.execute(
        select(func.max(ATT.rev), func.count()).where(ATT.project_id == project_id, ATT.work_date == day)
    ).one()
    d = conn.execute(
        select(func.max(DEP.rev), func.count()).where(DEP.project_id == project_id, DEP.work_date == day)
    ).one()
    s = conn.execute(
        select(func.max(SIA.rev), func.count()).where(
            SIA.project_id == project_id,
            SIA.work_date == day,
            SIA.outcome == Outcome.REFUSED.value,
        )
    ).one()
    att = max(int(a[0] or 0), int(d[0] or 0)) * 1_000_003 + int(a[1]) + int(d[1]) * 7919
    return (att, int(s[0] or 0) * 1_000_003 + int(s[1]))


def load_roster(engine: Engine, project_id: uuid.UUID, day: date) -> Roster:
    """Every worker of the day with his status, read afresh (a few set-based queries)."""
    return RosterReader(engine, project_id).load(day)


class RosterReader:
    """Reads one project's roster again and again (the app's refreshes).

    Who is expected (employment, worker, employer) changes rarely; attendance and refusals change all
    morning. The reader keeps the expected workers of the day and reads them again only when the day
    or the reference data's revisions change (three indexed ``max(rev)`` look-ups), so a refresh after
    a sign-in reads only the day's attendance and refusals.
    """

    def __init__(self, engine: Engine, project_id: uuid.UUID) -> None:
        self.engine = engine
        self.project_id = project_id
        self._project: ProjectInfo | None = None
        self._base: tuple[Any, list[Any]] | None = None  # (key, expected rows)

    def load(self, day: date) -> Roster:
        with translate_errors(str(self.engine.url)), self.engine.connect() as conn:
            if self._project is None:
                self._project = project_info(conn, self.project_id)
            key = (
                day,
                tuple(
                    conn.execute(
                        select(
                            select(func.max(EMP.rev)).scalar_subquery(),
                            select(func.max(WK.rev)).scalar_subquery(),
                            select(func.max(EMR.rev)).scalar_subquery(),
                            select(func.max(PRJ.rev)).scalar_subquery(),
                        )
                    ).one()
                ),
            )
            base = self._base
            if base is None or base[0] != key:
                base = (key, _expected(conn, self.project_id, day))
                self._base = base
                self._project = project_info(conn, self.project_id)
            return _assemble(conn, self._project, day, base[1])


def roster_on(conn: Connection, project_id: uuid.UUID, day: date) -> Roster:
    """The roster on an open connection (no caching)."""
    return _assemble(conn, project_info(conn, project_id), day, _expected(conn, project_id, day))


def _row_order(r: RosterRow) -> tuple[str, str, str, str]:
    return (r.employer, r.team, r.name, r.id_masked)


def _expected(conn: Connection, project_id: uuid.UUID, day: date) -> list[Any]:
    """The day's expected workers, in roster order (employer, team, name, masked ID number)."""
    # The employed-workers query of month.py's 考勤表 and refused.py's attempts: other columns and filters each.
    rows = conn.execute(
        select(
            raw_id(WK.id),
            WK.name,
            WK.id_number_masked,
            WK.id_last4,
            EMR.name,
            EMP.team,
            EMP.trade,
        )
        .select_from(EMP_T)
        .join(WK_T, WK.id == EMP.worker_id)
        .join(EMR_T, EMR.id == EMP.employer_id)
        .where(
            EMP.project_id == project_id,
            current_on(day),
            EMP.confirmed_at.is_not(None),
            WK.deleted_at.is_(None),
        )
    ).all()
    return sorted(rows, key=lambda r: (r[4] or "", r[5] or "", r[1], r[2]))


def _assemble(conn: Connection, project: ProjectInfo, day: date, expected: list[Any]) -> Roster:
    project_id = project.id
    attendance = conn.execute(
        select(raw_id(ATT.worker_id), ATT.first_at, ATT.way, KI.name, ATT.rev)
        .select_from(ATT_T)
        .outerjoin(KI_T, KI.id == ATT.kiosk_id)
        .where(ATT.project_id == project_id, ATT.work_date == day)
    ).all()
    refusals = conn.execute(
        select(raw_id(SIA.worker_id), SIA.reason, SIA.rev)
        .where(
            SIA.project_id == project_id,
            SIA.work_date == day,
            SIA.outcome == Outcome.REFUSED.value,
        )
        .order_by(SIA.at)
    ).all()

    rows: dict[Any, RosterRow] = {}
    for key, name, masked, last4, employer, team, trade in expected:
        if key not in rows:
            rows[key] = RosterRow(
                key, name, masked, last4, employer or "", team or "", trade or "", True, Status.NOT_YET
            )
    others = {a[0] for a in attendance} | {f[0] for f in refusals if f[0] is not None}
    others -= rows.keys()
    if others:
        by_uuid = {as_uuid(k): k for k in others}
        for wid, r in employments_of(conn, project_id, by_uuid).items():
            key = by_uuid[wid]
            rows[key] = RosterRow(
                key,
                r.name,
                r.id_number_masked,
                r.id_last4,
                r.employer or "",
                r.team or "",
                r.trade or "",
                False,
                Status.NOT_YET,
            )
    departures = conn.execute(
        select(raw_id(DEP.worker_id), DEP.at, DEP.method, DEP.rev).where(
            DEP.project_id == project_id, DEP.work_date == day
        )
    ).all()
    refused_rev = 0
    for key, reason, rev in refusals:
        refused_rev = max(refused_rev, rev)
        row = rows.get(key) if key is not None else None
        if row is not None:
            row.refusals += 1
            row.last_reason = reason
            row.status = Status.REFUSED
    attendance_rev = 0
    for key, first_at, way, kiosk, rev in attendance:
        attendance_rev = max(attendance_rev, rev)
        row = rows.get(key)
        if row is not None:
            row.status = Status.SIGNED_IN
            row.first_at, row.way, row.kiosk = first_at, way, kiosk
    n_left = 0
    for key, left_at, method, rev in departures:
        attendance_rev = max(attendance_rev, rev)
        row = rows.get(key)
        if row is not None and row.status is Status.SIGNED_IN:
            row.left_at, row.left_method = left_at, method
            n_left += 1
    # the expected rows come sorted (see _expected); only workers from outside them need a sort
    ordered = list(rows.values())
    if others:
        ordered.sort(key=_row_order)
    n_expected = n_not_yet = 0
    for r in ordered:
        if r.expected:
            n_expected += 1
            if r.status is not Status.SIGNED_IN:
                n_not_yet += 1
    counts = Counts(
        expected=n_expected,
        signed_in=len(attendance),
        not_yet=n_not_yet,
        refused=len(refusals),
        on_site=len(attendance) - n_left,
        left=n_left,
    )
    mark = (
        attendance_rev * 1_000_003 + len(attendance) + len(departures) * 7919,
        refused_rev * 1_000_003 + len(refusals),
    )
    return Roster(project, day, ordered, counts, mark)


def revision_mark(engine: Engine, project_id: uuid.UUID, day: date) -> tuple[int, int]:
    """A cheap fingerprint of the day's attendance and attempts, to skip refreshes that change nothing."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return _revision_mark(conn, project_id, day)


def filter_rows(
    rows: Sequence[RosterRow],
    *,
    status: Status | None = None,
    team: str | None = None,
    trade: str | None = None,
    search: str = "",
) -> list[RosterRow]:
    """The rows a filter keeps. ``search`` matches a part of the name, or the last digits of the ID number."""
    q = search.strip().upper()
    out = []
    for r in rows:
        if status is not None and r.status is not status:
            continue
        if team and r.team != team:
            continue
        if trade and r.trade != trade:
            continue
        if (
            q
            and q not in r.name.upper()
            and not r.id_masked.upper().endswith(q)
            and not r.id_last4.upper().endswith(q)
        ):
            continue
        out.append(r)
    return out


def group_counts(rows: Sequence[RosterRow]) -> dict[tuple[str, str], tuple[int, int]]:
    """(employer, team) → (signed in, all)."""
    total: Counter[tuple[str, str]] = Counter()
    signed: Counter[tuple[str, str]] = Counter()
    for r in rows:
        total[r.employer, r.team] += 1
        if r.status is Status.SIGNED_IN:
            signed[r.employer, r.team] += 1
    return {k: (signed[k], n) for k, n in total.items()}


def evacuation(roster: Roster, made_at: datetime | None = None) -> Evacuation:
    """Who is on site now (signed in today and not left), per employer and team, from an already loaded
    roster; ``left`` counts those who signed in and left since. ``made_at``: when (UTC), for its title."""
    ev = Evacuation(roster.project, roster.day, made_at=made_at)
    groups: dict[tuple[str, str], EvacuationGroup] = {}
    for r in roster.rows:
        if r.status is not Status.SIGNED_IN:
            continue
        if r.left_at is not None:
            ev.left += 1
            continue
        key = (r.employer, r.team)
        if key not in groups:
            groups[key] = EvacuationGroup(r.employer, r.team, [])
            ev.groups.append(groups[key])
        groups[key].rows.append(r)
    return ev


def load_evacuation(
    engine: Engine, project_id: uuid.UUID, day: date, made_at: datetime | None = None
) -> Evacuation:
    return evacuation(load_roster(engine, project_id, day), made_at)
