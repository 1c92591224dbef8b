"""Refused sign-in attempts on a project between two work dates, newest first (the roster's "refused"
panel, a worker's history, the refused-attempts export). Employer and team come from the worker's
newest employment on the project; no full ID number is read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.reasons import Outcome
from store.roster.tables import KI, KI_T, SIA, SIA_T, WK, WK_T, employments_of
from store.timeutil import as_utc


@dataclass(frozen=True, slots=True)
class RefusedAttempt:
    id: uuid.UUID
    at: datetime  # UTC
    work_date: date | None
    worker_id: uuid.UUID | None
    name: str  # "" when the code named no known worker
    id_masked: str
    employer: str
    team: str
    way: str
    kiosk: str | None
    reason: str  # a Reason value


def refused_attempts(
    engine: Engine, project_id: uuid.UUID, since: date, until: date, *, worker_id: uuid.UUID | None = None
) -> list[RefusedAttempt]:
    """Refused attempts on the project between two work dates (inclusive), newest first."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return refused_on(conn, project_id, since, until, worker_id)


def refused_on(
    conn: Connection, project_id: uuid.UUID, since: date, until: date, worker_id: uuid.UUID | None
) -> list[RefusedAttempt]:
    # The select/join/where shape of roster/day and month, over the attempts table.
    q = (
        select(
            SIA.id,
            SIA.at,
            SIA.work_date,
            SIA.worker_id,
            SIA.way,
            SIA.reason,
            KI.name.label("kiosk"),
            WK.name.label("name"),
            WK.id_number_masked,
        )
        .select_from(SIA_T)
        .outerjoin(KI_T, KI.id == SIA.kiosk_id)
        .outerjoin(WK_T, WK.id == SIA.worker_id)
        .where(
            SIA.project_id == project_id,
            SIA.work_date >= since,
            SIA.work_date <= until,
            SIA.outcome == Outcome.REFUSED.value,
        )
        .order_by(SIA.at.desc())
    )
    if worker_id is not None:
        q = q.where(SIA.worker_id == worker_id)
    rows = conn.execute(q).all()
    known = {r.worker_id for r in rows if r.worker_id is not None and r.name is not None}
    emp = employments_of(conn, project_id, known) if known else {}
    out = []
    for r in rows:
        e = emp.get(r.worker_id)
        out.append(
            RefusedAttempt(
                r.id,
                as_utc(r.at),
                r.work_date,
                r.worker_id,
                r.name or "",
                r.id_number_masked or "",
                (e.employer or "") if e else "",
                (e.team or "") if e else "",
                r.way or "",
                r.kiosk,
                r.reason or "",
            )
        )
    return out
