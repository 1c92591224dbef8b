"""The sign-in service: every sign-in rule, in one place, with no UI. A worker is signed in on a project
when he is enrolled, his real-name information is verified, he has a bank card in his own name, a valid
health check and a confirmed, current employment on the project, his age is allowed by the site policy,
and the officer at the kiosk is assigned to the project: the ``rule_*`` functions, the worker's checked in
the order of ``WORKER_RULES`` (the first failure is the reason given).

``SignInService.sign_in`` takes a worker already identified by a verified code, a project, the kiosk,
the officer, the way (A/B) and the time, and returns a ``SignInResult``: ``signed_in``, ``already``
(with the first sign-in's time and where), or ``refused`` (a ``Reason``). The attempt and, when
signed in, the attendance are committed in one transaction **before** the result is returned, so a
green card on screen is always a durable record (SQLite: WAL with ``synchronous=FULL``, see
``store/db/engine.py``).

Races: on SQLite the transaction begins IMMEDIATE, so two processes scanning the same worker queue on
the write lock and the second sees the first's attendance. On PostgreSQL the unique constraint
(worker, project, work date) decides; the loser rolls back and records an ``already``.

The rules are also exposed one by one (``evaluate``) for the admin's readiness panel: the same
functions, not a copy.

Speed (issue 29): what the rules look at is read by ``store.rules.facts`` in one statement per scan, the
worker's eligibility facts cached until the pull (or any write of them) changes them; the attempt and the
attendance are written with Core statements prepared once. The commit stays ``synchronous=FULL``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.db.engine import translate_errors, write_connection
from store.db.models import Attendance, GatePhoto, OfficerAssignment, SignInAttempt
from store.db.revision import take_revisions
from store.reasons import Outcome, Reason, Way
from store.rules.facts import (
    READ_PROJECT,
    EmploymentFacts,
    FactsCache,
    HealthFacts,
    ProjectFacts,
    WorkerFacts,
    read_worker,
)
from store.rules.policy import Policy
from store.rules.validation import age_on
from store.timeutil import DEFAULT_ZONE, as_utc, local_date, local_hm, utcnow


def code_hash(token: str) -> str:
    """What an attempt keeps of a code: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class WorkerCard:
    """What the officer sees of a worker: no full ID number."""

    id: uuid.UUID
    name: str
    id_masked: str
    sex: str
    employer: str | None = None
    team: str | None = None
    trade: str | None = None
    face_thumb: bytes | None = None
    birth_date: date | None = None  # for "his age" in an age refusal


@dataclass(frozen=True, slots=True)
class Place:
    """Where a way-A sign-in happened, and the verdict of the range check (store/rules/geo.py)."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None
    distance_m: float | None = None  # from the range; 0 inside
    refusal: Reason | None = None  # OUTSIDE_RANGE / LOCATION_INACCURATE, decided by the caller


@dataclass(frozen=True, slots=True)
class SignInResult:
    outcome: Outcome
    at: datetime
    work_date: date | None
    reason: Reason | None = None
    worker: WorkerCard | None = None
    attempt_id: uuid.UUID | None = None
    attendance_id: uuid.UUID | None = None
    first_at: datetime | None = None  # already: when the day's attendance was made
    first_kiosk: str | None = None  # already: the kiosk's name (None for way A on a phone)
    first_way: str | None = None
    distance_m: float | None = None
    left_at: datetime | None = (
        None  # 出场: when he left (signed out now, or already; store/rules/direction.py)
    )
    no_entry: bool = False  # 出场 without an entry that day (recorded and flagged)

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.REFUSED

    def message(self, lang: str = "zh", tz: str = DEFAULT_ZONE) -> str:
        if self.outcome is Outcome.REFUSED:
            assert self.reason is not None
            text = self.reason.message(lang)
            w = self.worker
            if self.reason is Reason.AGE_POLICY and w is not None and w.birth_date and self.work_date:
                age = age_on(w.birth_date, self.work_date)  # the officer sees why: his age
                return f"{text} (he is {age})" if lang == "en" else f"{text}（本人 {age} 岁）"
            if self.reason is Reason.CODE_EXPIRED and w is not None:  # the signature said whose it is
                if lang == "en":
                    return (
                        f"{w.name}'s code has expired: ask him to refresh it on his phone and show it again"
                    )
                return f"{w.name}的建设码已过期，请让他刷新手机上的码后重新出示"
            return text
        if self.outcome is Outcome.SIGNED_OUT or self.left_at is not None:
            return _left_message(self, lang, tz)
        if self.outcome is Outcome.ALREADY:
            when = local_hm(self.first_at or self.at, tz)
            where = self.first_kiosk or ""
            if not where and self.first_way == Way.A.value:
                where = "by phone" if lang == "en" else "手机签到"
            if lang == "en":
                return f"Already signed in today at {when}" + (f" ({where})" if where else "")
            return f"今日已签到 {when}" + (f"（{where}）" if where else "")
        return "Signed in" if lang == "en" else "签到成功"


def _left_message(r: SignInResult, lang: str, tz: str) -> str:
    """The words of a departure (出场), new or already recorded."""
    when = local_hm(r.left_at or r.at, tz)
    if r.outcome is Outcome.SIGNED_OUT:
        flag = (" (no entry today)" if lang == "en" else "（今日无进场记录）") if r.no_entry else ""
        return (f"Signed out {when}" if lang == "en" else f"签退成功 {when}") + flag
    return f"Already signed out today at {when}" if lang == "en" else f"今日已签退 {when}"


# --- the rules -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Facts:
    """What the rules look at, read once per sign-in (``store.rules.facts``)."""

    worker: WorkerFacts | None
    project: ProjectFacts | None
    on: date
    health: HealthFacts | None = None
    employments: Sequence[EmploymentFacts] = ()
    officer_assigned: bool | None = None  # None: no officer to check


Rule = Callable[[Facts, Policy], Reason | None]


def rule_worker_known(f: Facts, p: Policy) -> Reason | None:
    return Reason.WORKER_UNKNOWN if f.worker is None or f.worker.deleted_at is not None else None


def rule_realname(f: Facts, p: Policy) -> Reason | None:
    w = f.worker
    assert w is not None
    complete = bool(w.name and w.sex in ("M", "F") and w.birth_date and w.id_number_masked)
    return None if complete and w.realname_verified_at is not None else Reason.REALNAME_INCOMPLETE


def rule_bank_card(f: Facts, p: Policy) -> Reason | None:
    assert f.worker is not None
    return None if f.worker.has_bank_card else Reason.NO_BANK_CARD


def rule_health(f: Facts, p: Policy) -> Reason | None:
    h = f.health
    if h is None:
        return Reason.NO_HEALTH_CHECK
    if not h.passed:
        return Reason.HEALTH_CHECK_FAILED
    until = h.valid_until
    if until is None and p.health_valid_days > 0:
        until = h.checked_on + timedelta(days=p.health_valid_days)
    if until is not None and f.on > until:
        return Reason.HEALTH_CHECK_EXPIRED
    return None


def current_employment(f: Facts) -> EmploymentFacts | None:
    for e in f.employments:
        if e.start_date <= f.on and (e.end_date is None or f.on <= e.end_date):
            return e
    return None


def rule_employment(f: Facts, p: Policy) -> Reason | None:
    live = [e for e in f.employments if e.deleted_at is None]
    if not live:
        return Reason.NOT_EMPLOYED_ON_PROJECT
    current = current_employment(f)
    if current is None:
        if any(e.start_date > f.on for e in live):
            return Reason.EMPLOYMENT_NOT_STARTED
        return Reason.EMPLOYMENT_ENDED
    return None if current.confirmed_at is not None else Reason.EMPLOYMENT_NOT_CONFIRMED


def rule_age(f: Facts, p: Policy) -> Reason | None:
    w = f.worker
    assert w is not None
    age = age_on(w.birth_date, f.on)
    if age < p.min_age:
        return Reason.AGE_POLICY
    limit = p.max_age_male if w.sex == "M" else p.max_age_female
    return Reason.AGE_POLICY if age > limit else None


def rule_officer(f: Facts, p: Policy) -> Reason | None:
    return Reason.OFFICER_NOT_ASSIGNED if f.officer_assigned is False else None


#: the worker rules, in the order they are checked (the first failure is the reason given)
WORKER_RULES: tuple[tuple[str, Rule], ...] = (
    ("realname", rule_realname),
    ("bank_card", rule_bank_card),
    ("health", rule_health),
    ("employment", rule_employment),
    ("age", rule_age),
)


def load_facts(s: Session, worker_id: uuid.UUID, project_id: uuid.UUID, on: date) -> Facts:
    """The facts of one worker on one project, read afresh (the admin's readiness panel)."""
    conn = s.connection()
    known = read_worker(conn, worker_id, project_id)
    row = conn.execute(READ_PROJECT, {"project": project_id}).first()
    project = ProjectFacts(row.timezone, row.deleted_at) if row is not None else None
    return Facts(known.worker, project, on, known.health, known.employments)


def evaluate(facts: Facts, policy: Policy) -> list[tuple[str, Reason | None]]:
    """Every worker rule with its verdict (None = passes): the readiness panel's view."""
    if rule_worker_known(facts, policy):
        return [("worker", Reason.WORKER_UNKNOWN)]
    return [(name, rule(facts, policy)) for name, rule in WORKER_RULES]


def officer_assigned(s: Session, officer_id: uuid.UUID, project_id: uuid.UUID, on: date) -> bool:
    rows = s.exec(
        select(OfficerAssignment).where(
            OfficerAssignment.officer_id == officer_id,
            OfficerAssignment.project_id == project_id,
            col(OfficerAssignment.deleted_at).is_(None),
        )
    )
    return any(
        (a.start_date is None or a.start_date <= on) and (a.end_date is None or on <= a.end_date)
        for a in rows
    )


def worker_card(worker: WorkerFacts, employment: EmploymentFacts | None) -> WorkerCard:
    return WorkerCard(
        id=worker.id,
        name=worker.name,
        id_masked=worker.id_number_masked,
        sex=worker.sex,
        employer=employment.employer if employment else None,
        team=employment.team if employment else None,
        trade=employment.trade if employment else None,
        face_thumb=worker.face_thumb,
        birth_date=worker.birth_date,
    )


# --- the service ---------------------------------------------------------------------------------


class SignInService:
    """Signs workers in on one store. Thread-safe: each call has its own connection and transaction;
    the facts cache (``store.rules.facts``) is shared by the calls."""

    def __init__(self, engine: Engine, policy: Policy | None = None) -> None:
        self.engine = engine
        self.policy = policy or Policy()
        self.facts = FactsCache(engine)

    def work_date(
        self, conn: Connection, project_id: uuid.UUID, at: datetime
    ) -> tuple[ProjectFacts | None, date]:
        project = self.facts.project(conn, project_id)
        tz = project.timezone if project is not None and project.timezone else self.policy.timezone
        return project, local_date(at, tz)

    def sign_in(
        self,
        worker_id: uuid.UUID,
        project_id: uuid.UUID,
        *,
        way: Way = Way.B,
        at: datetime | None = None,
        kiosk_id: uuid.UUID | None = None,
        officer_id: uuid.UUID | None = None,
        kid: str | None = None,
        token: str | None = None,
        place: Place | None = None,
        photo: tuple[bytes, int, int] | None = None,
        latency_from: float | None = None,
    ) -> SignInResult:
        """Apply the rules and record the attempt (and attendance) durably. ``photo`` = (jpeg, w, h).

        ``latency_from``: the ``time.monotonic()`` at which the frame (or typed code) arrived; the
        attempt keeps the time from then to its write, just before the commit."""
        at = as_utc(at) if at is not None else utcnow()
        for _ in range(3):
            try:
                with translate_errors(str(self.engine.url)), write_connection(self.engine) as conn:
                    return self._sign_in(
                        conn,
                        worker_id,
                        project_id,
                        way,
                        at,
                        kiosk_id,
                        officer_id,
                        kid,
                        token,
                        place,
                        photo,
                        latency_from,
                    )
            except IntegrityError:
                continue  # lost a race on the day's attendance (PostgreSQL): the retry sees it as already
        raise RuntimeError("sign-in kept losing races on the same attendance")  # pragma: no cover

    def _sign_in(
        self,
        conn: Connection,
        worker_id: uuid.UUID,
        project_id: uuid.UUID,
        way: Way,
        at: datetime,
        kiosk_id: uuid.UUID | None,
        officer_id: uuid.UUID | None,
        kid: str | None,
        token: str | None,
        place: Place | None,
        photo: tuple[bytes, int, int] | None,
        latency_from: float | None,
    ) -> SignInResult:
        project, on = self.work_date(conn, project_id, at)
        attempt = _attempt_row(
            at=at,
            kiosk_id=kiosk_id,
            project_id=project_id if project is not None else None,
            work_date=on,
            way=way.value,
            worker_id=worker_id,
            officer_id=officer_id,
            kid=kid,
            code_hash=code_hash(token) if token else None,
            place=place,
        )

        def finish(result: SignInResult, attendance: dict[str, Any] | None = None) -> SignInResult:
            if latency_from is not None:
                attempt["latency_ms"] = round((time.monotonic() - latency_from) * 1000, 3)
            _record(conn, attempt, attendance, photo)
            return result

        if project is None or project.deleted_at is not None:
            attempt["reason"] = Reason.PROJECT_UNKNOWN.value
            return finish(self._refused(at, attempt, on, Reason.PROJECT_UNKNOWN, None))

        known, first = self.facts.read(conn, worker_id, project_id, on)
        worker = known.worker
        if worker is None or worker.deleted_at is not None:
            attempt["reason"] = Reason.WORKER_UNKNOWN.value
            return finish(self._refused(at, attempt, on, Reason.WORKER_UNKNOWN, None))

        facts = Facts(worker, project, on, known.health, known.employments)
        employment = current_employment(facts)
        if first is not None:
            card = worker_card(worker, employment or next(iter(facts.employments), None))
            attempt["outcome"] = Outcome.ALREADY.value
            attempt["attendance_id"] = first.id
            return finish(
                SignInResult(
                    Outcome.ALREADY,
                    at,
                    on,
                    worker=card,
                    attempt_id=attempt["id"],
                    attendance_id=first.id,
                    first_at=first.first_at,
                    first_kiosk=first.kiosk,
                    first_way=first.way,
                    distance_m=place.distance_m if place else None,
                )
            )

        card = worker_card(worker, employment)
        if officer_id is not None and way is Way.A:
            with Session(bind=conn) as s:
                facts.officer_assigned = officer_assigned(s, officer_id, project_id, on)
        reason = rule_officer(facts, self.policy)
        if reason is None and place is not None:
            reason = place.refusal
        if reason is None:
            reason = next(
                (r for _, rule in WORKER_RULES if (r := rule(facts, self.policy)) is not None), None
            )
        if reason is not None:
            attempt["reason"] = reason.value
            return finish(self._refused(at, attempt, on, reason, card, place))

        # The attendance row takes the attempt's fields one by one: two tables, not one shape.
        attendance = _row(
            _ATTENDANCE,
            worker_id=worker_id,
            project_id=project_id,
            work_date=on,
            first_at=at,
            way=way.value,
            kiosk_id=kiosk_id,
            officer_id=officer_id,
            attempt_id=attempt["id"],
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
        )
        attempt["outcome"] = Outcome.SIGNED_IN.value
        attempt["attendance_id"] = attendance["id"]
        # the unique constraint speaks at the insert: a lost race is retried as already
        return finish(
            SignInResult(
                Outcome.SIGNED_IN,
                at,
                on,
                worker=card,
                attempt_id=attempt["id"],
                attendance_id=attendance["id"],
                first_at=at,
                distance_m=place.distance_m if place else None,
            ),
            attendance,
        )

    @staticmethod
    def _refused(
        at: datetime,
        attempt: dict[str, Any],
        on: date,
        reason: Reason,
        card: WorkerCard | None,
        place: Place | None = None,
    ) -> SignInResult:
        return SignInResult(
            Outcome.REFUSED,
            at,
            on,
            reason=reason,
            worker=card,
            attempt_id=attempt["id"],
            distance_m=place.distance_m if place else None,
        )

    def record_refusal(
        self,
        reason: Reason,
        *,
        project_id: uuid.UUID | None,
        way: Way = Way.B,
        at: datetime | None = None,
        kiosk_id: uuid.UUID | None = None,
        officer_id: uuid.UUID | None = None,
        worker_id: uuid.UUID | None = None,
        kid: str | None = None,
        token: str | None = None,
        place: Place | None = None,
        photo: tuple[bytes, int, int] | None = None,
    ) -> SignInResult:
        """Keep an attempt refused before any worker rule ran (a bad, expired or forged code, …)."""
        at = as_utc(at) if at is not None else utcnow()
        with translate_errors(str(self.engine.url)), write_connection(self.engine) as conn:
            on = (
                self.work_date(conn, project_id, at)[1]
                if project_id
                else local_date(at, self.policy.timezone)
            )
            attempt = _attempt_row(
                at=at,
                kiosk_id=kiosk_id,
                project_id=project_id,
                work_date=on,
                way=way.value,
                worker_id=worker_id,
                officer_id=officer_id,
                kid=kid,
                code_hash=code_hash(token) if token else None,
                place=place,
            )
            attempt["reason"] = reason.value
            card = None
            if reason is Reason.CODE_EXPIRED and worker_id is not None and project_id is not None:
                # a genuine code whose time is over: the officer is told whose it is (SignInResult.message)
                known, _first = self.facts.read(conn, worker_id, project_id, on)
                if known.worker is not None and known.worker.deleted_at is None:
                    card = worker_card(known.worker, next(iter(known.employments), None))
            _record(conn, attempt, None, photo)
            return self._refused(at, attempt, on, reason, card, place)


# --- the writes ----------------------------------------------------------------------------------
# Core inserts prepared once (SQLAlchemy caches their compiled form), each row given every column of its
# table, stamped with this database's revisions as an ORM flush would (store/db/revision.py).


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_ATTEMPT, _ATTENDANCE, _PHOTO = _table(SignInAttempt), _table(Attendance), _table(GatePhoto)
_INSERT = {t.name: insert(t) for t in (_ATTEMPT, _ATTENDANCE, _PHOTO)}


def _row(table: Table, **values: Any) -> dict[str, Any]:
    """A new row of ``table``: every column (None unless given), a fresh id, created and updated now."""
    now = utcnow()
    row: dict[str, Any] = dict.fromkeys(table.columns.keys())
    row.update(id=uuid.uuid4(), created_at=now, updated_at=now, rev=0)
    row.update(values)
    return row


def _attempt_row(*, place: Place | None, **values: Any) -> dict[str, Any]:
    """The attempt of a scan, refused until the rules say otherwise."""
    row = _row(_ATTEMPT, outcome=Outcome.REFUSED.value, **values)
    if place is not None:
        row.update(
            latitude=place.latitude,
            longitude=place.longitude,
            accuracy_m=place.accuracy_m,
            distance_m=place.distance_m,
        )
    return row


def _record(
    conn: Connection,
    attempt: dict[str, Any],
    attendance: dict[str, Any] | None,
    photo: tuple[bytes, int, int] | None,
) -> None:
    """Write the attempt, the day's attendance and the gate photo, each with its revision."""
    rows: list[tuple[Table, dict[str, Any]]] = [(_ATTEMPT, attempt)]
    if attendance is not None:
        rows.append((_ATTENDANCE, attendance))
    if photo is not None:
        rows.append(
            (_PHOTO, _row(_PHOTO, attempt_id=attempt["id"], jpeg=photo[0], width=photo[1], height=photo[2]))
        )
    last = take_revisions(conn, len(rows))
    for offset, (table, row) in enumerate(rows):
        row["rev"] = last - len(rows) + 1 + offset
        conn.execute(_INSERT[table.name], row)
