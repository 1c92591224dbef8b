"""A project's month (考勤表): every worker employed on the project during the month, or present in it,
with the days he signed in (project-local work dates), including months whose daily rows were purged
after the retention period (their days are kept in ``AttendanceMonth``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.engine import Engine

from store.db.engine import translate_errors
from store.db.models import (
    AttendanceMonth,
)
from store.projects import ProjectInfo, project_info
from store.roster.tables import ATT, EMP, EMP_T, EMR, EMR_T, WK, WK_T, as_uuid, employments_of, raw_id


@dataclass(slots=True)
class MonthRow:
    key: Any  # the worker's id as the driver returned it; see ``worker_id``
    name: str
    id_masked: str
    employer: str
    team: str
    trade: str
    days: set[int]  # days of the month present

    @property
    def worker_id(self) -> uuid.UUID:
        return as_uuid(self.key)


@dataclass(slots=True)
class Month:
    project: ProjectInfo
    year: int
    month: int
    n_days: int
    rows: list[MonthRow]


def month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def load_month(engine: Engine, project_id: uuid.UUID, year: int, month: int) -> Month:
    """考勤表: every worker employed on the project during the month (confirmed or not) or present in it,
    with the days of the month he signed in (project-local work dates)."""
    first, last = month_range(year, month)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        project = project_info(conn, project_id)
        # Like roster/day's _expected (employment joined to worker and employer): this month's filter, no last4.
        employed = conn.execute(
            select(
                raw_id(WK.id),
                WK.name,
                WK.id_number_masked,
                EMR.name,
                EMP.team,
                EMP.trade,
            )
            .select_from(EMP_T)
            .join(WK_T, WK.id == EMP.worker_id)
            .join(EMR_T, EMR.id == EMP.employer_id)
            .where(
                EMP.project_id == project_id,
                EMP.deleted_at.is_(None),
                EMP.start_date <= last,
                or_(EMP.end_date.is_(None), EMP.end_date >= first),
                WK.deleted_at.is_(None),
            )
            .order_by(EMP.start_date)
        ).all()
        # ids and dates as the driver gives them: 150 000 rows a month, converted only to a day number
        present: list[Any] = list(
            conn.execute(
                select(raw_id(ATT.worker_id), type_coerce(ATT.work_date, String)).where(
                    ATT.project_id == project_id,
                    ATT.work_date >= first,
                    ATT.work_date <= last,
                )
            ).all()
        )
        # a month whose daily rows were purged after the retention period keeps its days for wages
        # (store/roster/retention.py)
        am = AttendanceMonth.__table__.c  # type: ignore[attr-defined]
        for key, days in conn.execute(
            select(raw_id(am.worker_id), am.days).where(am.project_id == project_id, am.month == first)
        ).all():
            present += [(key, f"{first:%Y-%m}-{int(d):02d}") for d in str(days).split(",") if d]
        rows: dict[Any, MonthRow] = {}
        for key, name, masked, employer, team, trade in employed:
            rows[key] = MonthRow(key, name, masked, employer or "", team or "", trade or "", set())
        missing = {p[0] for p in present} - rows.keys()
        if missing:
            by_uuid = {as_uuid(k): k for k in missing}
            for wid, r in employments_of(conn, project_id, by_uuid).items():
                key = by_uuid[wid]
                rows[key] = MonthRow(
                    key, r.name, r.id_number_masked, r.employer or "", r.team or "", r.trade or "", set()
                )
    for key, day in present:
        rows[key].days.add(day.day if isinstance(day, date) else int(str(day)[8:10]))
    ordered = sorted(rows.values(), key=lambda r: (r.employer, r.team, r.name, r.id_masked))
    return Month(project, year, month, last.day, ordered)
