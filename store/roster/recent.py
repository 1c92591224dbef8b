"""The last attempts at this kiosk on a project's work date, for the officer screen after a restart.

No UI here: the app reads them in a thread worker at unlock. Names only, never ID numbers or codes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db.engine import translate_errors
from store.db.models import SignInAttempt, Worker
from store.reasons import Outcome, Reason


@dataclass(frozen=True, slots=True)
class RecentAttempt:
    at: datetime
    name: str | None
    outcome: Outcome
    reason: Reason | None


def recent_attempts(
    engine: Engine, project_id: uuid.UUID, on: date, *, kiosk_id: uuid.UUID | None = None, limit: int = 20
) -> list[RecentAttempt]:
    """Newest first: the day's attempts on the project (at this kiosk when ``kiosk_id`` is given)."""
    query = (
        select(SignInAttempt.at, Worker.name, SignInAttempt.outcome, SignInAttempt.reason)
        .outerjoin(Worker, col(Worker.id) == col(SignInAttempt.worker_id))
        .where(SignInAttempt.project_id == project_id, SignInAttempt.work_date == on)
        .order_by(col(SignInAttempt.at).desc())
        .limit(limit)
    )
    if kiosk_id is not None:
        query = query.where(SignInAttempt.kiosk_id == kiosk_id)
    with translate_errors(str(engine.url)), Session(engine) as s:
        rows = s.exec(query).all()
    known = {r.value for r in Reason}
    return [
        RecentAttempt(at, name, Outcome(outcome), Reason(reason) if reason in known else None)
        for at, name, outcome, reason in rows
    ]
