"""A worker's history on a project: his last 30 days (``DETAIL_DAYS``) of attendance and refused
attempts, ending on the day shown (the roster's worker screen). No full ID number is read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from store.db.engine import translate_errors
from store.errors import StoreError
from store.roster.refused import RefusedAttempt, refused_on
from store.roster.tables import ATT, ATT_T, KI, KI_T, WK, employments_of
from store.timeutil import as_utc


@dataclass(frozen=True, slots=True)
class DayRecord:
    work_date: date
    first_at: datetime
    way: str
    kiosk: str | None


@dataclass(slots=True)
class WorkerDetail:
    worker_id: uuid.UUID
    name: str
    id_masked: str
    sex: str
    employer: str
    team: str
    trade: str
    since: date
    until: date
    days: list[DayRecord]  # newest first
    refused: list[RefusedAttempt]  # newest first


DETAIL_DAYS = 30


def worker_detail(engine: Engine, project_id: uuid.UUID, worker_id: uuid.UUID, day: date) -> WorkerDetail:
    """A worker's last 30 days on the project (ending ``day``): attendance and refused attempts."""
    since = day - timedelta(days=DETAIL_DAYS - 1)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        w = conn.execute(select(WK.name, WK.id_number_masked, WK.sex).where(WK.id == worker_id)).first()
        if w is None:
            raise StoreError(f"查无此工人：{worker_id}", f"Unknown worker: {worker_id}")
        e = employments_of(conn, project_id, [worker_id]).get(worker_id)
        days = conn.execute(
            select(ATT.work_date, ATT.first_at, ATT.way, KI.name.label("kiosk"))
            .select_from(ATT_T)
            .outerjoin(KI_T, KI.id == ATT.kiosk_id)
            .where(
                ATT.project_id == project_id,
                ATT.worker_id == worker_id,
                ATT.work_date >= since,
                ATT.work_date <= day,
            )
            .order_by(ATT.work_date.desc())
        ).all()
        refused = refused_on(conn, project_id, since, day, worker_id)
    return WorkerDetail(
        worker_id,
        w.name,
        w.id_number_masked,
        w.sex,
        (e.employer or "") if e else "",
        (e.team or "") if e else "",
        (e.trade or "") if e else "",
        since,
        day,
        [DayRecord(d.work_date, as_utc(d.first_at), d.way, d.kiosk) for d in days],
        refused,
    )
