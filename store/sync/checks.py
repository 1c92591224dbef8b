"""What the service believes of a kiosk's push (issue 24): only what the kiosk can prove.

Every pushed row must be this kiosk's (``kiosk_id`` is the verified key's kiosk) and of a project the key is
approved for. An attendance must also have its ``work_date`` equal to the date of its ``first_at`` in the
project's time zone (a kiosk cannot file a sign-in under another day), ``first_at`` no later than the
service's clock allows, and the worker must be employed in the project that day. A photo must belong to
an attempt of this kiosk. What is refused is kept in ``pushrejection`` with the reason
(``kiosk kiosk rejections``), never applied; the rest of the batch goes on.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from store.db.models import Employment, Project, PushRejection, SignInAttempt
from store.sync.keys import KioskPrincipal
from store.sync.pull import table_of
from store.sync.wire import encode_rows
from store.timeutil import local_date, utcnow

#: a pushed sign-in may be this far ahead of the service's clock (the kiosk's clock drifts a little)
FUTURE_S = 300


def _reject(conn: Connection, who: KioskPrincipal, table: str, row: dict[str, Any], reason: str) -> None:
    detail = json.dumps(encode_rows([{k: v for k, v in row.items() if k != "jpeg"}])[0], ensure_ascii=False)
    conn.execute(
        table_of(PushRejection).insert(),
        {
            "id": uuid.uuid4(),
            "at": utcnow(),
            "login": f"key:{who.name}",
            "kiosk_id": who.kiosk_id,
            "table_name": table,
            "row_id": row.get("id"),
            "reason": reason,
            "detail": detail[:4000],
        },
    )


def _zones(conn: Connection, projects: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    p = table_of(Project)
    return {r.id: r.timezone for r in conn.execute(select(p.c.id, p.c.timezone).where(p.c.id.in_(projects)))}


def _employed(conn: Connection, rows: list[dict[str, Any]]) -> set[tuple[uuid.UUID, uuid.UUID, date]]:
    """(worker, project, day) of these rows on which the worker is employed there."""
    e = table_of(Employment)
    workers = list({r["worker_id"] for r in rows})
    spans: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[date, date | None]]] = {}
    for i in range(0, len(workers), 900):
        for s in conn.execute(
            select(e.c.worker_id, e.c.project_id, e.c.start_date, e.c.end_date).where(
                e.c.worker_id.in_(workers[i : i + 900]), e.c.deleted_at.is_(None)
            )
        ):
            spans.setdefault((s.worker_id, s.project_id), []).append((s.start_date, s.end_date))
    out: set[tuple[uuid.UUID, uuid.UUID, date]] = set()
    for r in rows:
        d = r["work_date"]
        if any(a <= d and (b is None or d <= b) for a, b in spans.get((r["worker_id"], r["project_id"]), [])):
            out.add((r["worker_id"], r["project_id"], d))
    return out


def check_batch(
    conn: Connection, who: KioskPrincipal, rows: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """The rows the service believes, by table, and how many it refused (each recorded with its reason)."""
    mine, ok_projects = who.kiosk_id, who.projects
    rejected = 0
    kept: dict[str, list[dict[str, Any]]] = {name: [] for name in rows}

    def owned(table: str, r: dict[str, Any], *, project_needed: bool = False) -> bool:
        nonlocal rejected
        kiosk = r.get("id") if table == "kiosk" else r.get("kiosk_id")
        reason = None
        if kiosk != mine:
            reason = "not_this_kiosk"
        elif r.get("project_id") is None and project_needed:
            reason = "no_project"
        elif r.get("project_id") is not None and r["project_id"] not in ok_projects:
            reason = "project_not_approved"
        if reason:
            _reject(conn, who, table, r, reason)
            rejected += 1
            return False
        return True

    kept["kiosk"] = [r for r in rows.get("kiosk", []) if owned("kiosk", r)]
    kept["kioskevent"] = [r for r in rows.get("kioskevent", []) if owned("kioskevent", r)]
    attempts = [r for r in rows.get("signinattempt", []) if owned("signinattempt", r)]
    attendance = [r for r in rows.get("attendance", []) if owned("attendance", r, project_needed=True)]

    zones = _zones(conn, {r["project_id"] for r in attendance})
    employed = _employed(conn, attendance) if attendance else set()
    latest = utcnow() + timedelta(seconds=FUTURE_S)
    refused_attempts: set[uuid.UUID] = set()
    good: list[dict[str, Any]] = []
    for r in attendance:
        tz = zones.get(r["project_id"])
        reason = None
        if tz is None:
            reason = "unknown_project"
        elif r["first_at"] > latest:
            reason = "first_at_in_future"
        elif r["work_date"] != local_date(r["first_at"], tz):
            reason = "work_date_not_first_at"
        elif (r["worker_id"], r["project_id"], r["work_date"]) not in employed:
            reason = "not_employed"
        if reason:
            _reject(conn, who, "attendance", r, reason)
            rejected += 1
            if r.get("attempt_id") is not None:
                refused_attempts.add(r["attempt_id"])
        else:
            good.append(r)
    kept["attendance"] = good
    for r in attempts:
        if r["id"] in refused_attempts:
            _reject(conn, who, "signinattempt", r, "attendance_refused")
            rejected += 1
    kept["signinattempt"] = [r for r in attempts if r["id"] not in refused_attempts]

    # 出场 (issue 25): this kiosk's departures on its projects, scanned or closed at the close time (a 补录
    # is the office's, way A the service's own), dated by their time in the project's time zone
    leaving = [r for r in rows.get("departure", []) if owned("departure", r, project_needed=True)]
    dep_zones = _zones(conn, {r["project_id"] for r in leaving})
    kept["departure"] = []
    for r in leaving:
        tz = dep_zones.get(r["project_id"])
        reason = None
        if tz is None:
            reason = "unknown_project"
        elif r.get("method") not in ("scan", "auto"):
            reason = "method_not_kiosk"
        elif r["at"] > latest:
            reason = "first_at_in_future"
        elif r["work_date"] != local_date(r["at"], tz):
            reason = "work_date_not_first_at"
        if reason:
            _reject(conn, who, "departure", r, reason)
            rejected += 1
        else:
            kept["departure"].append(r)

    # a photo only of an attempt of this kiosk (in this batch, or pushed before)
    ids = {r["id"] for r in kept["signinattempt"]}
    photos = rows.get("gatephoto", [])
    wanted = [r["attempt_id"] for r in photos if r.get("attempt_id") not in ids]
    if wanted:
        sa = table_of(SignInAttempt)
        for i in range(0, len(wanted), 900):
            ids |= set(
                conn.execute(
                    select(sa.c.id).where(and_(sa.c.id.in_(wanted[i : i + 900]), or_(sa.c.kiosk_id == mine)))
                ).scalars()
            )
    kept["gatephoto"] = []
    for r in photos:
        if r.get("attempt_id") in ids:
            kept["gatephoto"].append(r)
        else:
            _reject(conn, who, "gatephoto", r, "not_this_kiosk")
            rejected += 1
    return kept, rejected
