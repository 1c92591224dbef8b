"""Unlocking the officer screen: whose officer code is this, and which projects may he sign in for.

No UI here: the app calls ``check_officer`` in a thread worker with the text the camera or the scanner
read. It verifies the code as an OFFICER code (``store.codes.tokens.Verifier``), finds the officer in the
store and the projects he is assigned to today (``store.rules.signin.officer_assigned``), restricted to the
kiosk's configured project when there is one, and, when the kiosk's own position is configured, drops
the projects whose range the kiosk is outside (``store.rules.geo.kiosk_in_range``). The result is an
``Unlock`` or an ``UnlockRefused`` naming the ``Reason``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.codes.tokens import CodeError, Verifier
from store.db.models import Officer, OfficerAssignment, Project
from store.reasons import Reason, Role
from store.rules.signin import officer_assigned
from store.timeutil import DEFAULT_ZONE, as_utc, local_date, utcnow


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    id: uuid.UUID
    name: str
    timezone: str = DEFAULT_ZONE


@dataclass(frozen=True, slots=True)
class Unlock:
    officer_id: uuid.UUID
    officer_name: str
    projects: tuple[ProjectChoice, ...]  # at least one


@dataclass(frozen=True, slots=True)
class UnlockRefused:
    reason: Reason
    officer_name: str | None = None
    detail_zh: str = ""
    detail_en: str = ""
    #: the officer, when the code was a genuine officer's (for the kiosk's event log)
    officer_id: uuid.UUID | None = None

    def message(self, lang: str = "zh") -> str:
        """The full message: the detail when there is one (it includes the reason), else the reason."""
        detail = self.detail_en if lang == "en" else self.detail_zh
        return detail or self.reason.message(lang)


def check_officer(
    engine: Engine,
    verifier: Verifier,
    text: str,
    *,
    project_id: uuid.UUID | None = None,
    kiosk_lat: float | None = None,
    kiosk_lon: float | None = None,
    timezone: str = DEFAULT_ZONE,
    at: datetime | None = None,
) -> Unlock | UnlockRefused:
    """May the holder of this code unlock the kiosk, and for which projects."""
    at = as_utc(at) if at is not None else utcnow()
    try:
        ident = verifier.verify(text.strip(), role=Role.OFFICER, at=at)
    except CodeError as exc:
        return UnlockRefused(exc.reason)
    with Session(engine) as s:
        officer = s.get(Officer, ident.subject)
        if officer is None or officer.deleted_at is not None:
            return UnlockRefused(Reason.OFFICER_UNKNOWN)
        if project_id is not None:
            candidates = [project_id]
        else:
            rows = s.exec(
                select(OfficerAssignment.project_id).where(
                    OfficerAssignment.officer_id == officer.id,
                    col(OfficerAssignment.deleted_at).is_(None),
                )
            )
            candidates = list(dict.fromkeys(rows))
        projects: list[Project] = []
        for pid in candidates:
            p = s.get(Project, pid)
            if (
                p is not None
                and p.deleted_at is None
                and officer_assigned(s, officer.id, pid, local_date(at, p.timezone or timezone))
            ):
                projects.append(p)
        if not projects:
            fixed = s.get(Project, project_id) if project_id is not None else None
            if fixed is not None:  # this kiosk signs in for one project: name it, so he knows which
                r = Reason.OFFICER_NOT_ASSIGNED
                return UnlockRefused(
                    r,
                    officer.name,
                    f"{r.zh}（{fixed.name}）",
                    f"{r.en} ({fixed.name})",
                    officer_id=officer.id,
                )
            return UnlockRefused(Reason.OFFICER_NOT_ASSIGNED, officer.name, officer_id=officer.id)
        if kiosk_lat is not None and kiosk_lon is not None:
            from store.rules.geo import kiosk_range_error

            errors = {p.id: kiosk_range_error(p, kiosk_lat, kiosk_lon) for p in projects}
            inside = [p for p in projects if errors[p.id] is None]
            if not inside:
                err = errors[projects[0].id]
                assert err is not None
                return UnlockRefused(
                    Reason.KIOSK_OUTSIDE_RANGE, officer.name, err.zh, err.en, officer_id=officer.id
                )
            projects = inside
        choices = tuple(
            ProjectChoice(p.id, p.name, p.timezone or timezone)
            for p in sorted(projects, key=lambda p: p.name)
        )
        return Unlock(officer.id, officer.name, choices)
