"""The tables the roster reads, as SQLAlchemy Core columns, and the queries its readers share.

The roster reads with Core (not ORM objects) to stay fast on 5 000 workers: ``raw_id`` reads a UUID as the
driver gives it, ``employments_of`` finds the newest employment of a few workers (those who came without
being expected), ``current_on`` is the condition of an employment current on a day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import String, Table, and_, or_, select, type_coerce
from sqlalchemy.engine import Connection

from store.db.models import (
    Attendance,
    Departure,
    Employer,
    Employment,
    Kiosk,
    Project,
    SignInAttempt,
    Worker,
)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


WK_T, EMR_T, EMP_T, ATT_T, KI_T, SIA_T, PRJ_T = (
    _table(m) for m in (Worker, Employer, Employment, Attendance, Kiosk, SignInAttempt, Project)
)


WK, EMR, EMP, ATT, KI, SIA, PRJ = (t.c for t in (WK_T, EMR_T, EMP_T, ATT_T, KI_T, SIA_T, PRJ_T))

DEP_T = _table(Departure)  # 出场 (issue 25)
DEP = DEP_T.c


def current_on(day: date) -> Any:
    return and_(
        EMP.deleted_at.is_(None),
        EMP.start_date <= day,
        or_(EMP.end_date.is_(None), EMP.end_date >= day),
    )


EMP_COLS = (
    WK.id.label("worker_id"),
    WK.name,
    WK.id_number_masked,
    WK.id_last4,
    EMR.name.label("employer"),
    EMP.team,
    EMP.trade,
)


def employments_of(
    conn: Connection, project_id: uuid.UUID, worker_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """The newest employment row on the project of each of a few workers (those not expected today)."""
    ids = list(worker_ids)
    out: dict[uuid.UUID, Any] = {}
    for i in range(0, len(ids), 500):
        rows = conn.execute(
            select(*EMP_COLS)
            .select_from(WK_T)
            .outerjoin(
                Employment,
                and_(EMP.worker_id == WK.id, EMP.project_id == project_id),
            )
            .outerjoin(EMR_T, EMR.id == EMP.employer_id)
            .where(WK.id.in_(ids[i : i + 500]))
            .order_by(EMP.start_date)
        ).all()
        for r in rows:
            out[r.worker_id] = r  # the last (newest start) wins
    return out


def raw_id(col: Any) -> Any:
    """A UUID column read as the driver gives it (hex text on SQLite, a UUID on PostgreSQL): the roster
    uses ids only as keys, and skipping 10 000 conversions per refresh is a third of its time."""
    return type_coerce(col, String)


def as_uuid(raw: Any) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)
