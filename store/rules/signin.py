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
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.db.engine import translate_errors, write_session
from store.db.models import (
    Attendance,
    Employer,
    Employment,
    GatePhoto,
    HealthCheck,
    Kiosk,
    OfficerAssignment,
    Project,
    SignInAttempt,
    Worker,
)
from store.reasons import Outcome, Reason, Way
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
            return text
        if self.outcome is Outcome.ALREADY:
            when = local_hm(self.first_at or self.at, tz)
            where = self.first_kiosk or ""
            if not where and self.first_way == Way.A.value:
                where = "by phone" if lang == "en" else "手机签到"
            if lang == "en":
                return f"Already signed in today at {when}" + (f" ({where})" if where else "")
            return f"今日已签到 {when}" + (f"（{where}）" if where else "")
        return "Signed in" if lang == "en" else "签到成功"


# --- the rules -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Facts:
    """What the rules look at, read once per sign-in."""

    worker: Worker | None
    project: Project | None
    on: date
    health: HealthCheck | None = None
    employments: list[Employment] = field(default_factory=list)
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


def current_employment(f: Facts) -> Employment | None:
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
    worker = s.get(Worker, worker_id)
    project = s.get(Project, project_id)
    facts = Facts(worker=worker, project=project, on=on)
    if worker is None:
        return facts
    facts.health = s.exec(
        select(HealthCheck)
        .where(HealthCheck.worker_id == worker_id, col(HealthCheck.deleted_at).is_(None))
        .order_by(col(HealthCheck.checked_on).desc())
        .limit(1)
    ).first()
    facts.employments = list(
        s.exec(
            select(Employment).where(
                Employment.worker_id == worker_id,
                Employment.project_id == project_id,
                col(Employment.deleted_at).is_(None),
            )
        )
    )
    return facts


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


def worker_card(s: Session, worker: Worker, employment: Employment | None) -> WorkerCard:
    employer = s.get(Employer, employment.employer_id) if employment else None
    return WorkerCard(
        id=worker.id,
        name=worker.name,
        id_masked=worker.id_number_masked,
        sex=worker.sex,
        employer=employer.name if employer else None,
        team=employment.team if employment else None,
        trade=employment.trade if employment else None,
        face_thumb=worker.face_thumb,
        birth_date=worker.birth_date,
    )


# --- the service ---------------------------------------------------------------------------------


class SignInService:
    """Signs workers in on one store. Thread-safe: each call opens its own session."""

    def __init__(self, engine: Engine, policy: Policy | None = None) -> None:
        self.engine = engine
        self.policy = policy or Policy()
        self._project_tz: dict[uuid.UUID, str] = {}

    def work_date(self, s: Session, project_id: uuid.UUID, at: datetime) -> tuple[Project | None, date]:
        project = s.get(Project, project_id)
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
                with translate_errors(str(self.engine.url)), write_session(self.engine) as s:
                    return self._sign_in(
                        s,
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
        s: Session,
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
        project, on = self.work_date(s, project_id, at)
        attempt = SignInAttempt(
            at=at,
            kiosk_id=kiosk_id,
            project_id=project_id if project is not None else None,
            work_date=on,
            way=way.value,
            worker_id=worker_id,
            officer_id=officer_id,
            outcome=Outcome.REFUSED.value,
            kid=kid,
            code_hash=code_hash(token) if token else None,
        )
        if place is not None:
            attempt.latitude, attempt.longitude = place.latitude, place.longitude
            attempt.accuracy_m, attempt.distance_m = place.accuracy_m, place.distance_m

        def finish(result: SignInResult) -> SignInResult:
            if latency_from is not None:
                attempt.latency_ms = round((time.monotonic() - latency_from) * 1000, 3)
            s.add(attempt)
            if photo is not None:
                s.flush()
                s.add(GatePhoto(attempt_id=attempt.id, jpeg=photo[0], width=photo[1], height=photo[2]))
            return result

        if project is None or project.deleted_at is not None:
            attempt.reason = Reason.PROJECT_UNKNOWN.value
            return finish(self._refused(attempt, on, Reason.PROJECT_UNKNOWN, None))

        worker = s.get(Worker, worker_id)
        if worker is None or worker.deleted_at is not None:
            attempt.reason = Reason.WORKER_UNKNOWN.value
            return finish(self._refused(attempt, on, Reason.WORKER_UNKNOWN, None))

        first = s.exec(
            select(Attendance).where(
                Attendance.worker_id == worker_id,
                Attendance.project_id == project_id,
                Attendance.work_date == on,
            )
        ).first()
        facts = load_facts(s, worker_id, project_id, on) if first is None else Facts(worker, project, on)
        card = worker_card(
            s,
            worker,
            current_employment(facts) if first is None else _any_employment(s, worker_id, project_id),
        )
        if first is not None:
            attempt.outcome = Outcome.ALREADY.value
            attempt.attendance_id = first.id
            kiosk = s.get(Kiosk, first.kiosk_id) if first.kiosk_id else None
            where = kiosk.name if kiosk else None
            return finish(
                SignInResult(
                    Outcome.ALREADY,
                    at,
                    on,
                    worker=card,
                    attempt_id=attempt.id,
                    attendance_id=first.id,
                    first_at=first.first_at,
                    first_kiosk=where,
                    first_way=first.way,
                    distance_m=place.distance_m if place else None,
                )
            )

        if officer_id is not None and way is Way.A:
            facts.officer_assigned = officer_assigned(s, officer_id, project_id, on)
        reason = rule_officer(facts, self.policy)
        if reason is None and place is not None:
            reason = place.refusal
        if reason is None:
            reason = next(
                (r for _, rule in WORKER_RULES if (r := rule(facts, self.policy)) is not None), None
            )
        if reason is not None:
            attempt.reason = reason.value
            return finish(self._refused(attempt, on, reason, card, place))

        # The attendance row takes the attempt's fields one by one: two tables, not one shape (as in _refused).
        attendance = Attendance(
            worker_id=worker_id,
            project_id=project_id,
            work_date=on,
            first_at=at,
            way=way.value,
            kiosk_id=kiosk_id,
            officer_id=officer_id,
            attempt_id=attempt.id,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
        )
        s.add(attendance)  # the unique constraint speaks at the commit: a lost race is retried as already
        attempt.outcome = Outcome.SIGNED_IN.value
        attempt.attendance_id = attendance.id
        return finish(
            SignInResult(
                Outcome.SIGNED_IN,
                at,
                on,
                worker=card,
                attempt_id=attempt.id,
                attendance_id=attendance.id,
                first_at=at,
                distance_m=place.distance_m if place else None,
            )
        )

    @staticmethod
    def _refused(
        attempt: SignInAttempt, on: date, reason: Reason, card: WorkerCard | None, place: Place | None = None
    ) -> SignInResult:
        return SignInResult(
            Outcome.REFUSED,
            attempt.at,
            on,
            reason=reason,
            worker=card,
            attempt_id=attempt.id,
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
        with translate_errors(str(self.engine.url)), write_session(self.engine) as s:
            on = self.work_date(s, project_id, at)[1] if project_id else local_date(at, self.policy.timezone)
            # Spelled out as in sign_in's attempt: each refusal path fills the columns it knows.
            attempt = SignInAttempt(
                at=at,
                kiosk_id=kiosk_id,
                project_id=project_id,
                work_date=on,
                way=way.value,
                worker_id=worker_id,
                officer_id=officer_id,
                outcome=Outcome.REFUSED.value,
                reason=reason.value,
                kid=kid,
                code_hash=code_hash(token) if token else None,
            )
            if place is not None:
                attempt.latitude, attempt.longitude = place.latitude, place.longitude
                attempt.accuracy_m, attempt.distance_m = place.accuracy_m, place.distance_m
            s.add(attempt)
            if photo is not None:
                s.flush()
                s.add(GatePhoto(attempt_id=attempt.id, jpeg=photo[0], width=photo[1], height=photo[2]))
            return SignInResult(
                Outcome.REFUSED,
                at,
                on,
                reason=reason,
                attempt_id=attempt.id,
                distance_m=place.distance_m if place else None,
            )


def _any_employment(s: Session, worker_id: uuid.UUID, project_id: uuid.UUID) -> Employment | None:
    return s.exec(
        select(Employment).where(Employment.worker_id == worker_id, Employment.project_id == project_id)
    ).first()
