"""Way A (方式一): the officer shows his code, the worker's phone scans it inside the project's range.

``sign_in_way_a`` is the phone's side, with no UI (``kiosk phone signin`` is its command line). In
order, the first failure being the reason given:

1. the input is checked (position, accuracy, coordinate system): bad input is a ``ValidationError``
   and records nothing;
2. the **officer's code** (the scanned one): genuine, current, role officer (a worker's code here is
   ``CODE_WRONG_ROLE``), naming a project (else ``CODE_INVALID``); the officer exists
   (``OFFICER_UNKNOWN``) and is assigned to that project on the work date (``OFFICER_NOT_ASSIGNED``);
3. the **worker's own code**: genuine, current, role worker;
4. the **place** (``store/rules/geo.py``): accuracy, then inside the range (``LOCATION_INACCURATE`` /
   ``OUTSIDE_RANGE`` with how far outside);
5. every worker rule of the sign-in service (``SignInService.sign_in`` with ``way=A``, the officer and
   the place), which records the attendance with way A and the WGS-84 position, or ``already``
   when the worker was signed in that day by either way on any kiosk.

Refusals of steps 2–3 are recorded with ``SignInService.record_refusal`` (who tried, when, where,
why); both codes are verified before anything is recorded, so the attempt names the worker whenever
his own code was good. Step 4's refusal is handed to the service, which records it after the
``already`` check. An attempt keeps the SHA-256 of the code in question, never a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from store.db.engine import session, translate_errors
from store.db.models import Officer, Project
from store.reasons import Outcome, Reason, Role, Way
from store.rules.direction import DirectionService
from store.rules.geo import DEFAULT_MAX_ACCURACY_M, check_place, place_message, to_wgs84, validate_accuracy
from store.rules.policy import Policy
from store.rules.signin import Place, SignInResult, SignInService, officer_assigned
from store.timeutil import DEFAULT_ZONE, as_utc, local_date, utcnow

#: how the messages say whose code was wrong
OFFICER_CODE = ("签到员建设码", "Officer's code")
WORKER_CODE = ("本人建设码", "Your code")


class CodeVerifier(Protocol):
    """What way A needs of ``store.codes.tokens.Verifier``."""

    def verify(self, token: str, *, role: Role | None = ..., at: datetime | None = ...) -> Any: ...


@dataclass(frozen=True, slots=True)
class WayAResult:
    """The phone's answer: what ``kiosk phone signin`` prints."""

    outcome: Outcome
    reason: Reason | None
    message_zh: str
    message_en: str
    distance_m: float | None = None
    result: SignInResult | None = None
    project_id: uuid.UUID | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.REFUSED

    def as_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "outcome": self.outcome.value,
            "reason": self.reason.value if self.reason else None,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "distance_m": self.distance_m,
            "project": str(self.project_id) if self.project_id else None,
            "work_date": r.work_date.isoformat() if r and r.work_date else None,
            "at": r.at.isoformat() if r else None,
            "first_at": r.first_at.isoformat() if r and r.first_at else None,
        }


def _code_error_reason(exc: Exception) -> Reason | None:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, Reason) else None


def _verify(verifier: CodeVerifier, token: str, role: Role, at: datetime) -> tuple[Any, Reason | None]:
    from store.codes.tokens import CodeError

    try:
        return verifier.verify(token, role=role, at=at), None
    except CodeError as exc:
        return None, _code_error_reason(exc) or Reason.CODE_INVALID


def _uuid(value: object) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def sign_in_way_a(
    engine: Engine,
    verifier: CodeVerifier,
    *,
    officer_token: str,
    worker_token: str,
    latitude: float,
    longitude: float,
    accuracy_m: float | None = None,
    crs: str = "wgs84",
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
    policy: Policy | None = None,
    at: datetime | None = None,
    direction: str = "in",
    signout_projects: Collection[str] = (),
) -> WayAResult:
    """The worker's phone scanned ``officer_token``; sign him in (see the module docstring).

    ``direction`` ``out``: sign him out instead (出场, store/rules/direction.py) — only on a project named
    (by id or name, ``*`` for every one) in ``signout_projects``; the place is checked all the same."""
    at = as_utc(at) if at is not None else utcnow()
    to_wgs84(latitude, longitude, crs)  # bad input: a ValidationError before anything is recorded
    validate_accuracy(accuracy_m)
    officer_token, worker_token = officer_token.strip(), worker_token.strip()
    service = SignInService(engine, policy)

    officer, officer_err = _verify(verifier, officer_token, Role.OFFICER, at)
    worker, worker_err = _verify(verifier, worker_token, Role.WORKER, at)
    worker_id = _uuid(worker.subject) if worker is not None else None
    officer_id = _uuid(officer.subject) if officer is not None else None
    project_id = _uuid(getattr(officer, "project", None)) if officer is not None else None

    def refuse(
        reason: Reason, whose: tuple[str, str] | None, token: str, kid: str | None, place: Place | None = None
    ) -> WayAResult:
        # the keywords of signin's record_refusal, as every refusal path passes them
        r = service.record_refusal(
            reason,
            project_id=project_id,
            way=Way.A,
            at=at,
            officer_id=officer_id,
            worker_id=worker_id,
            kid=kid,
            token=token,
            place=place,
        )
        zh, en = reason.zh, reason.en
        if whose is not None:
            zh, en = f"{whose[0]}：{zh}", f"{whose[1]}: {en}"
        return WayAResult(Outcome.REFUSED, reason, zh, en, None, r, project_id)

    if officer_err is not None:
        return refuse(officer_err, OFFICER_CODE, officer_token, None)
    if project_id is None:
        return refuse(Reason.CODE_INVALID, OFFICER_CODE, officer_token, officer.kid)
    assert officer_id is not None
    with translate_errors(str(engine.url)), session(engine) as s:
        project = s.get(Project, project_id)
        officer_row = s.get(Officer, officer_id)
        if project is None or project.deleted_at is not None:
            project_reason: Reason | None = Reason.PROJECT_UNKNOWN
        elif officer_row is None or officer_row.deleted_at is not None:
            project_reason = Reason.OFFICER_UNKNOWN
        elif not officer_assigned(
            s, officer_id, project_id, local_date(at, project.timezone or DEFAULT_ZONE)
        ):
            project_reason = Reason.OFFICER_NOT_ASSIGNED
        else:
            project_reason = None
    if project_reason is Reason.PROJECT_UNKNOWN:
        project_id = None  # the attempt must not point at a project that is not there
    if project_reason is not None:
        return refuse(project_reason, None, officer_token, officer.kid)
    if worker_err is not None:
        return refuse(worker_err, WORKER_CODE, worker_token, None)
    if worker_id is None:
        return refuse(Reason.CODE_INVALID, WORKER_CODE, worker_token, worker.kid)

    assert project is not None and project_id is not None
    place = check_place(
        project, latitude, longitude, accuracy_m=accuracy_m, crs=crs, max_accuracy_m=max_accuracy_m
    )
    if direction == "out":
        if not ({"*", str(project_id), project.name} & set(signout_projects)):
            return refuse(Reason.SIGNOUT_NOT_ALLOWED, None, worker_token, worker.kid, place)
        result = DirectionService(service).sign_out(
            worker_id,
            project_id,
            way=Way.A,
            at=at,
            officer_id=officer_id,
            kid=worker.kid,
            token=worker_token,
            place=place,
        )
    else:
        result = service.sign_in(
            worker_id,
            project_id,
            way=Way.A,
            at=at,
            officer_id=officer_id,
            kid=worker.kid,
            token=worker_token,
            place=place,
        )
    zh, en = result.message("zh", project.timezone), result.message("en", project.timezone)
    if result.reason in (Reason.OUTSIDE_RANGE, Reason.LOCATION_INACCURATE):
        zh = place_message(place, result.reason, lang="zh", max_accuracy_m=max_accuracy_m) or zh
        en = place_message(place, result.reason, lang="en", max_accuracy_m=max_accuracy_m) or en
    return WayAResult(result.outcome, result.reason, zh, en, place.distance_m, result, project_id)


# --- what the officer's screen shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    """One way-A sign-in of the day, as the officer's code screen lists it (no full ID number)."""

    attendance_id: uuid.UUID
    worker_id: uuid.UUID
    name: str
    id_masked: str
    at: datetime
    distance_m: float | None = None


def way_a_arrivals(engine: Engine, project_id: uuid.UUID, on: date, *, limit: int = 200) -> list[Arrival]:
    """The day's way-A attendances on a project, newest first (one query)."""
    from sqlmodel import col, select

    from store.db.models import Attendance, SignInAttempt, Worker

    stmt = (
        select(Attendance, Worker.name, Worker.id_number_masked, SignInAttempt.distance_m)
        .join(Worker, col(Worker.id) == col(Attendance.worker_id))
        .outerjoin(SignInAttempt, col(SignInAttempt.id) == col(Attendance.attempt_id))
        .where(Attendance.project_id == project_id, Attendance.work_date == on, Attendance.way == Way.A.value)
        .order_by(col(Attendance.first_at).desc())
        .limit(limit)
    )
    with translate_errors(str(engine.url)), session(engine) as s:
        return [
            Arrival(a.id, a.worker_id, name, masked, a.first_at, dist)
            for a, name, masked, dist in s.exec(stmt).all()
        ]
