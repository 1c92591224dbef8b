"""出场 and 进场: the direction of a pass at the gate, departures, the automatic close and corrections.

The one place these rules live (the entry rules stay in ``store/rules/signin.py``):

- A kiosk runs in one of three modes (``GateMode``): 进场 (every scan is an entry: the sign-in rules),
  出场 (every scan is a departure) or 自动 (a worker not in yet enters; a worker in leaves; a scan within
  ``repeat_window_s`` of his last pass is a repeat, amber, and changes nothing).
- A departure needs a genuine current code like an entry (the gate verifies it before calling here), and
  none of the eligibility rules: a worker whose health check expired at noon still leaves. A departure
  without an entry that day is recorded with ``no_entry`` and flagged, never refused.
- One departure per worker, project and work date (``Departure``): a second 出场 scan is ``already``
  with the time of the first. Sync keeps one too: a correction first, else the earliest (store/sync/push.py).
- 自动签退: at the project's close time everyone still in (an entry and no departure) is closed with
  ``method = auto`` at the close time itself — never confused with a scanned one (``close_forgotten``).
- 补录: a supervisor sets a departure's time with a reason; the row says ``manual``, the reason and who,
  and the audit log keeps it (``correct_departure``).

Every scan is kept as an attempt (``signinattempt``, outcome ``signed_out`` or ``already``) with its
gate photo, like an entry.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from enum import StrEnum
from typing import cast

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.db.engine import translate_errors, write_session
from store.db.models import Attendance, AuditLog, Departure, GatePhoto, Project, SignInAttempt, Worker
from store.errors import StoreError
from store.reasons import Outcome, Reason, Way
from store.rules.facts import WorkerFacts
from store.rules.signin import Place, SignInResult, SignInService, code_hash, worker_card
from store.timeutil import as_utc, local_date, utcnow

#: a second scan within this many seconds of a worker's last pass is a repeat in 自动 mode
REPEAT_WINDOW_S = 300.0
#: the default close time of a project (local time) when the config names none
DEFAULT_CLOSE = dtime(20, 0)
#: how many past days ``close_forgotten`` looks at (a kiosk switched off over a long weekend)
CLOSE_LOOKBACK_DAYS = 7


class GateMode(StrEnum):
    """What a scan at this kiosk means."""

    IN = "in"  # 进场
    OUT = "out"  # 出场
    AUTO = "auto"  # 自动

    def label(self, lang: str = "zh") -> str:
        return _MODE[self][1 if lang == "en" else 0]

    def next(self) -> GateMode:
        """The mode after this one (the officer's key cycles 进场 → 出场 → 自动)."""
        order = list(GateMode)
        return order[(order.index(self) + 1) % len(order)]


_MODE = {GateMode.IN: ("进场", "Entry"), GateMode.OUT: ("出场", "Exit"), GateMode.AUTO: ("自动", "Auto")}


class Method(StrEnum):
    """How a pass was recorded: what every export shows beside it."""

    SCAN = "scan"  # 扫码: a kiosk read the worker's code (way B)
    PHONE = "phone"  # 手机扫码: the worker's phone read the officer's code (way A)
    AUTO = "auto"  # 自动签退: closed at the project's close time
    MANUAL = "manual"  # 补录: a supervisor's correction

    def label(self, lang: str = "zh") -> str:
        return _METHOD[self][1 if lang == "en" else 0]

    @classmethod
    def of_way(cls, way: str | None) -> Method:
        return cls.PHONE if way == Way.A.value else cls.SCAN


_METHOD = {
    Method.SCAN: ("扫码", "scan"),
    Method.PHONE: ("手机扫码", "phone"),
    Method.AUTO: ("自动签退", "auto sign-out"),
    Method.MANUAL: ("补录", "correction"),
}


def method_label(value: str | None, lang: str = "zh") -> str:
    """The words of a stored method (the value itself when it is not a known one)."""
    if not value:
        return ""
    try:
        return Method(value).label(lang)
    except ValueError:
        return value


def departure_rank(method: str, at: datetime, row_id: uuid.UUID | str) -> tuple[int, datetime, str]:
    """Which of two departures of one day stays (the smaller): a correction, else the earlier, else the id."""
    return (0 if method == Method.MANUAL.value else 1, as_utc(at), str(row_id).replace("-", ""))


class CorrectionError(StoreError):
    """A 补录 that cannot be recorded as given (no reason, a time before the entry, no such worker)."""


@dataclass(frozen=True, slots=True)
class DayPass:
    """What the gate knows of a worker's day on a project: when he came in and when he left."""

    entered_at: datetime | None
    left_at: datetime | None
    entry_id: uuid.UUID | None = None

    @property
    def on_site(self) -> bool:
        return self.entered_at is not None and self.left_at is None


def day_pass(s: Session, worker_id: uuid.UUID, project_id: uuid.UUID, on: date) -> DayPass:
    entry = s.exec(
        select(Attendance).where(
            Attendance.worker_id == worker_id, Attendance.project_id == project_id, Attendance.work_date == on
        )
    ).first()
    out = s.exec(
        select(Departure).where(
            Departure.worker_id == worker_id, Departure.project_id == project_id, Departure.work_date == on
        )
    ).first()
    return DayPass(
        as_utc(entry.first_at) if entry else None,
        as_utc(out.at) if out else None,
        entry.id if entry else None,
    )


class DirectionService:
    """Passes in either direction on one store, over the sign-in service (which keeps the entry rules).
    Thread-safe like it: each call opens its own session."""

    def __init__(self, signin: SignInService, *, repeat_window_s: float = REPEAT_WINDOW_S) -> None:
        self.signin = signin
        self.engine = signin.engine
        self.repeat_window_s = repeat_window_s

    def pass_gate(
        self,
        mode: GateMode,
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
        """One genuine scan in ``mode``: an entry (the sign-in rules), a departure, or a repeat."""
        at = as_utc(at) if at is not None else utcnow()
        if mode is GateMode.AUTO:
            mode = self._auto_direction(worker_id, project_id, at)
        if mode is GateMode.IN:
            return self.signin.sign_in(
                worker_id,
                project_id,
                way=way,
                at=at,
                kiosk_id=kiosk_id,
                officer_id=officer_id,
                kid=kid,
                token=token,
                place=place,
                photo=photo,
                latency_from=latency_from,
            )
        return self.sign_out(
            worker_id,
            project_id,
            way=way,
            at=at,
            kiosk_id=kiosk_id,
            officer_id=officer_id,
            kid=kid,
            token=token,
            place=place,
            photo=photo,
            latency_from=latency_from,
        )

    def _auto_direction(self, worker_id: uuid.UUID, project_id: uuid.UUID, at: datetime) -> GateMode:
        """自动: in when not in yet; out when in — unless his last pass was a moment ago (a repeat,
        answered as the entry's ``already``); after a departure, the departure's ``already``."""
        with Session(self.engine) as s:
            on = self.signin.work_date(s.connection(), project_id, at)[1]
            day = day_pass(s, worker_id, project_id, on)
        if day.left_at is not None:
            return GateMode.OUT
        if day.entered_at is None:
            return GateMode.IN
        if (at - day.entered_at).total_seconds() < self.repeat_window_s:
            return GateMode.IN  # a repeat: the entry's `already`, amber
        return GateMode.OUT

    def sign_out(
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
        """Record a departure (出场) durably, with its attempt and photo. ``already`` when he has left
        today; flagged ``no_entry`` when he had not entered; refused only for an unknown worker or project."""
        at = as_utc(at) if at is not None else utcnow()
        for _ in range(3):
            try:
                with translate_errors(str(self.engine.url)), write_session(self.engine) as s:
                    return self._sign_out(
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
                continue  # lost a race on the day's departure (PostgreSQL): the retry sees it as already
        raise RuntimeError("sign-out kept losing races on the same departure")  # pragma: no cover

    def _sign_out(
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
        project, on = self.signin.work_date(s.connection(), project_id, at)
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

        reason: Reason | None = None
        worker = s.get(Worker, worker_id)
        if project is None or project.deleted_at is not None:
            reason = Reason.PROJECT_UNKNOWN
        elif worker is None or worker.deleted_at is not None:
            reason = Reason.WORKER_UNKNOWN
        elif place is not None and place.refusal is not None:
            reason = place.refusal  # way A: a phone outside the range has not proved it is at the gate
        if reason is not None or worker is None:
            attempt.reason = (reason or Reason.WORKER_UNKNOWN).value
            return finish(SignInResult(Outcome.REFUSED, at, on, reason=reason, attempt_id=attempt.id))

        day = day_pass(s, worker_id, project_id, on)
        card = worker_card(cast(WorkerFacts, worker), None)  # the ORM row has the same names
        attempt.attendance_id = day.entry_id
        if day.left_at is not None:
            attempt.outcome = Outcome.ALREADY.value
            return finish(
                SignInResult(
                    Outcome.ALREADY,
                    at,
                    on,
                    worker=card,
                    attempt_id=attempt.id,
                    attendance_id=day.entry_id,
                    first_at=day.entered_at,
                    left_at=day.left_at,
                )
            )
        s.add(
            Departure(
                worker_id=worker_id,
                project_id=project_id,
                work_date=on,
                at=at,
                method=Method.of_way(way.value).value,
                kiosk_id=kiosk_id,
                officer_id=officer_id,
                attempt_id=attempt.id,
                no_entry=day.entered_at is None,
                latitude=place.latitude if place else None,
                longitude=place.longitude if place else None,
            )
        )
        attempt.outcome = Outcome.SIGNED_OUT.value
        return finish(
            SignInResult(
                Outcome.SIGNED_OUT,
                at,
                on,
                worker=card,
                attempt_id=attempt.id,
                attendance_id=day.entry_id,
                first_at=day.entered_at,
                left_at=at,
                no_entry=day.entered_at is None,
                distance_m=place.distance_m if place else None,
            )
        )


# --- the automatic close (自动签退) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseResult:
    closed: int  # departures written
    projects: int  # projects looked at
    days: tuple[tuple[uuid.UUID, date, int], ...] = ()  # (project, day, closed) where something closed


def close_time_of(project: Project, closes: Mapping[str, dtime], default: dtime) -> dtime:
    """A project's close time from the config: by its id, else by its name, else the default."""
    return closes.get(str(project.id), closes.get(project.name, default))


def close_moment(on: date, close: dtime, tz: str) -> datetime:
    from zoneinfo import ZoneInfo  # the time zone database, read only when a close is computed

    return as_utc(datetime.combine(on, close, tzinfo=ZoneInfo(tz)))


def close_forgotten(
    engine: Engine,
    *,
    now: datetime | None = None,
    closes: Mapping[str, dtime] | None = None,
    default: dtime = DEFAULT_CLOSE,
    project_ids: list[uuid.UUID] | None = None,
    lookback_days: int = CLOSE_LOOKBACK_DAYS,
    kiosk_id: uuid.UUID | None = None,
) -> CloseResult:
    """Close everyone still in whose day's close time has passed: a departure ``auto`` at the close time.

    ``kiosk_id``: the kiosk closing on its own store (its departures are pushed as its own). Safe to run again and
    again, on any kiosk or the shared database: a day already closed has nothing left to close, and sync
    keeps one departure a day (a scanned one made before the close, pushed late, wins over ``auto``)."""
    now = as_utc(now) if now is not None else utcnow()
    closes = closes or {}
    total = 0
    done: list[tuple[uuid.UUID, date, int]] = []
    with translate_errors(str(engine.url)), write_session(engine) as s:
        q = select(Project).where(col(Project.deleted_at).is_(None))
        if project_ids is not None:
            q = q.where(col(Project.id).in_(project_ids))
        projects = list(s.exec(q))
        for p in projects:
            tz = p.timezone
            close = close_time_of(p, closes, default)
            today = local_date(now, tz)
            for back in range(lookback_days, -1, -1):
                on = today - timedelta(days=back)
                moment = close_moment(on, close, tz)
                if moment > now:
                    continue
                open_rows = s.exec(
                    select(Attendance)
                    .where(Attendance.project_id == p.id, Attendance.work_date == on)
                    .where(
                        ~select(Departure.id)
                        .where(
                            Departure.worker_id == Attendance.worker_id,
                            Departure.project_id == p.id,
                            Departure.work_date == on,
                        )
                        .exists()
                    )
                ).all()
                n = 0
                for a in open_rows:
                    at = max(moment, as_utc(a.first_at))  # never before he came in (a late entry)
                    s.add(
                        Departure(
                            worker_id=a.worker_id,
                            project_id=p.id,
                            work_date=on,
                            at=at,
                            method=Method.AUTO.value,
                            kiosk_id=kiosk_id,
                            no_entry=False,
                        )
                    )
                    n += 1
                if n:
                    done.append((p.id, on, n))
                    total += n
    return CloseResult(total, len(projects), tuple(done))


# --- corrections (补录) -------------------------------------------------------------------------


def correct_departure(
    engine: Engine,
    *,
    worker_id: uuid.UUID,
    project_id: uuid.UUID,
    on: date,
    at: datetime,
    reason: str,
    actor: str,
) -> Departure:
    """Set (or add) a worker's departure of a day, as a supervisor's correction (补录): ``manual``, with
    the reason and who, and an audit log row. The time must not be before his entry that day."""
    reason = reason.strip()
    if not reason:
        raise CorrectionError("补录需要填写原因", "A correction needs a reason")
    if not actor.strip():
        raise CorrectionError("补录需要填写操作人", "A correction needs who made it")
    at = as_utc(at)
    with translate_errors(str(engine.url)), write_session(engine) as s:
        if s.get(Worker, worker_id) is None:
            raise CorrectionError("没有这个工人", "No such worker")
        project = s.get(Project, project_id)
        if project is None:
            raise CorrectionError("没有这个项目", "No such project")
        day = day_pass(s, worker_id, project_id, on)
        if day.entered_at is not None and at < day.entered_at:
            raise CorrectionError("出场时间早于进场时间", "The departure is before the entry")
        if local_date(at, project.timezone) != on:
            raise CorrectionError("出场时间不在这一天", "The departure time is not on that work date")
        row = s.exec(
            select(Departure).where(
                Departure.worker_id == worker_id,
                Departure.project_id == project_id,
                Departure.work_date == on,
            )
        ).first()
        before = f"{row.method}@{as_utc(row.at).isoformat()}" if row is not None else "none"
        if row is None:
            row = Departure(worker_id=worker_id, project_id=project_id, work_date=on, at=at, method="manual")
        row.at = at
        row.method = Method.MANUAL.value
        row.no_entry = day.entered_at is None
        row.note = reason
        row.actor = actor
        s.add(row)
        s.flush()
        s.add(
            AuditLog(
                actor=actor,
                action="correct",
                table_name="departure",
                row_id=row.id,
                detail=f"at: {before} -> {at.isoformat()}; reason: {reason}",
            )
        )
        return row
