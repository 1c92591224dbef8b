"""Retention and purge: keep what the law and wages need, as long as they need it, and then not (PIPL:
no longer than needed).

Two places, two sets of rules:

- **the shared database** (``mode="shared"``): daily attendance, sign-in attempts, gate photos and the
  kiosks' event log (departures, 出场, go with the attendance of their day) for ``[retention] attendance_days`` / ``attempts_days`` / ``photos_days`` (two
  years each by default). What wages need of the attendance — the days present of each worker,
  project and month — is rolled up into ``AttendanceMonth`` before the daily rows go, and kept for
  ``wages_days`` (three years): the monthly sheet (``kiosk export monthly``) still reads those months.
- **a kiosk's local store** (``mode="kiosk"``): gate photos, attempts, attendance and events older
  than ``kiosk_days`` (30) — but only rows already pushed to the shared database (revision at or
  below the push cursor; pulled rows carry 0). What is not pushed yet is never deleted, however old:
  the report counts it as kept.

Rows go in batches of ``batch`` ids, each batch in its own short transaction, so a kiosk keeps signing
in while a purge runs. Gate photos go before their attempts (the foreign key); an attempt whose photo
is kept longer stays with it. Every purge writes one audit row per table it deleted from (who, how
many, up to which date; never a value) and returns a ``RetentionReport``. ``--dry-run`` counts only.

``--before DATE`` purges less, never more: each kind goes up to its own period or the date, whichever
is earlier; a date after every period would delete what must still be kept, and is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, and_, delete, func, not_, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select as select_model

from store.db.engine import translate_errors, write_session
from store.db.models import (
    Attendance,
    AttendanceMonth,
    AuditLog,
    Departure,
    GatePhoto,
    KioskEvent,
    SignInAttempt,
)
from store.errors import StoreError
from store.sync.state import PUSH_REV, int_state, read_state
from store.timeutil import DEFAULT_ZONE, as_utc, local_date, utcnow, zone

Mode = Literal["kiosk", "shared"]
Progress = Callable[[str, int], None]
BATCH = 5000


class RetentionError(StoreError):
    """A purge asked for something it must not do (delete what must still be kept)."""


@dataclass(frozen=True, slots=True)
class Periods:
    attendance_days: int = 730
    attempts_days: int = 730
    photos_days: int = 730
    wages_days: int = 1095
    kiosk_days: int = 30


@dataclass(slots=True)
class Item:
    """One kind of record: how many are (or would be) purged, up to which date, how many old ones kept."""

    what: str
    label_zh: str
    label_en: str
    before: date  # rows of days before this date
    purged: int = 0
    #: older than the date but kept: not pushed yet (a kiosk), or an attempt whose gate photo is kept longer
    kept_unpushed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "what": self.what,
            "label": self.label_en,
            "label_zh": self.label_zh,
            "before": self.before.isoformat(),
            "count": self.purged,
            "kept_unpushed": self.kept_unpushed,
        }


# A report dataclass with a total, like roster/day's Evacuation: two reports.
@dataclass(slots=True)
class RetentionReport:
    mode: Mode
    at: datetime
    dry_run: bool
    items: list[Item] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(i.purged for i in self.items)

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "total": self.total,
            "items": [i.as_dict() for i in self.items],
        }

    def lines(self, lang: str = "zh") -> list[str]:
        out = []
        for i in self.items:
            if lang == "en":
                verb = "would purge" if self.dry_run else "purged"
                line = f"{i.label_en} before {i.before}: {verb} {i.purged}"
                if i.kept_unpushed:
                    line += f", {i.kept_unpushed} kept (not pushed yet)"
            else:
                verb = "将清除" if self.dry_run else "已清除"
                line = f"{i.label_zh}（{i.before} 之前）：{verb} {i.purged} 条"
                if i.kept_unpushed:
                    line += f"，{i.kept_unpushed} 条尚未上传，保留"
            out.append(line)
        return out


def _t(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]  # sqlmodel does not declare __table__


def _start_of(day: date, tz: str) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=zone(tz)))


def cutoffs(periods: Periods, mode: Mode, today: date, before: date | None) -> dict[str, date]:
    """The first day kept, per kind of record. ``before`` may only move a date earlier."""
    if mode == "kiosk":
        days = dict.fromkeys(("photos", "attempts", "attendance", "departures", "events"), periods.kiosk_days)
    else:
        days = {
            "photos": periods.photos_days,
            "attempts": periods.attempts_days,
            "attendance": periods.attendance_days,
            "departures": periods.attendance_days,  # 出场 goes with the attendance of its day
            "events": periods.attempts_days,
            "months": periods.wages_days,
        }
    out = {k: today - timedelta(days=v) for k, v in days.items()}
    if before is not None:
        latest = max(out.values())
        if before > latest:
            setting = (
                "kiosk_days"
                if mode == "kiosk"
                else "attendance_days / attempts_days / photos_days / wages_days"
            )
            raise RetentionError(
                f"--before {before} 晚于保留期限 {latest}：这些记录还须保留（[retention] {setting}）",
                f"--before {before} is after the retention limit {latest}: those records must still be kept "
                f"([retention] {setting})",
            )
        out = {k: min(v, before) for k, v in out.items()}  # each kind: its own period, or earlier
    if "months" in out:  # whole months only: a month goes when its last day is past the period
        m = out["months"]
        out["months"] = date(m.year, m.month, 1)
    return out


LABELS: dict[str, tuple[str, str]] = {
    "photos": ("闸口照片", "gate photos"),
    "attempts": ("签到记录（每次扫码）", "sign-in attempts"),
    "attendance": ("每日考勤", "daily attendance"),
    "departures": ("出场记录", "departures"),
    "events": ("设备事件", "kiosk events"),
    "months": ("月考勤（工资用）", "monthly attendance (wages)"),
}


def _conditions(
    mode: Mode, cut: dict[str, date], tz: str, push_rev: int
) -> dict[str, tuple[Table, Any, Any]]:
    """Per kind: its table, the condition of "old enough", and of "goes" (old, pushed on a kiosk, and for an
    attempt: its gate photo goes too)."""
    ph, sa, att, ev, am = (
        _t(GatePhoto),
        _t(SignInAttempt),
        _t(Attendance),
        _t(KioskEvent),
        _t(AttendanceMonth),
    )
    kiosk = mode == "kiosk"

    def pushed(table: Table, old: Any) -> Any:
        return and_(old, table.c.rev <= push_rev) if kiosk else old

    photo_old = ph.c.attempt_id.in_(select(sa.c.id).where(sa.c.at < _start_of(cut["photos"], tz)))
    photo_goes = pushed(ph, photo_old)
    photo_stays = select(ph.c.attempt_id).where(not_(photo_goes))  # an attempt stays with its photo
    attempt_old = sa.c.at < _start_of(cut["attempts"], tz)
    att_old = att.c.work_date < cut["attendance"]
    dep = _t(Departure)
    dep_old = dep.c.work_date < cut["departures"]
    ev_old = ev.c.at < _start_of(cut["events"], tz)
    conds: dict[str, tuple[Table, Any, Any]] = {
        "photos": (ph, photo_old, photo_goes),
        "attempts": (sa, attempt_old, and_(pushed(sa, attempt_old), sa.c.id.not_in(photo_stays))),
        "attendance": (att, att_old, pushed(att, att_old)),
        "departures": (dep, dep_old, pushed(dep, dep_old)),
        "events": (ev, ev_old, pushed(ev, ev_old)),
    }
    if not kiosk:
        conds["months"] = (am, am.c.month < cut["months"], am.c.month < cut["months"])
    return conds


def _count(conn: Connection, table: Table, cond: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(cond)).scalar_one())


def purge(
    engine: Engine,
    *,
    mode: Mode,
    periods: Periods = Periods(),
    now: datetime | None = None,
    tz: str = DEFAULT_ZONE,
    before: date | None = None,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: str = "retention",
    on_progress: Progress | None = None,
) -> RetentionReport:
    """Purge (or with ``dry_run`` count) what is past its retention period. See the module's text."""
    now = as_utc(now) if now is not None else utcnow()
    cut = cutoffs(periods, mode, local_date(now, tz), before)
    report = RetentionReport(mode, now, dry_run)
    url = str(engine.url)
    with translate_errors(url), engine.connect() as conn:
        push_rev = int_state(read_state(conn), PUSH_REV) if mode == "kiosk" else 0
        conds = _conditions(mode, cut, tz, push_rev)
        for what, (table, old, goes) in conds.items():
            item = Item(what, *LABELS[what], before=cut[what])
            item.purged = _count(conn, table, goes)
            item.kept_unpushed = _count(conn, table, old) - item.purged
            report.items.append(item)
        conn.rollback()
    if dry_run:
        return report
    for item in report.items:
        if not item.purged:
            continue
        table, _old, gone = conds[item.what]
        done = 0
        while True:
            with translate_errors(url):
                n = _purge_batch(
                    engine, table, gone, batch, rollup=(mode == "shared" and item.what == "attendance")
                )
            if not n:
                break
            done += n
            if on_progress is not None:
                on_progress(item.what, n)
        item.purged = done
        with translate_errors(url), write_session(engine) as s:
            s.add(
                AuditLog(
                    at=now,
                    actor=actor,
                    action="purge",
                    table_name=table.name,
                    detail=f"{done} rows before {item.before} ({mode}; retention)",
                )
            )
    return report


def _purge_batch(engine: Engine, table: Table, cond: Any, batch: int, *, rollup: bool) -> int:
    with write_session(engine) as s:
        conn = s.connection()
        if rollup:
            rows = conn.execute(
                select(table.c.id, table.c.worker_id, table.c.project_id, table.c.work_date)
                .where(cond)
                .limit(batch)
            ).all()
            ids = [r.id for r in rows]
            _roll_up(s, [(r.worker_id, r.project_id, r.work_date) for r in rows])
        else:
            ids = list(conn.execute(select(table.c.id).where(cond).limit(batch)).scalars())
        if ids:
            conn.execute(delete(table).where(table.c.id.in_(ids)))
        return len(ids)


def _roll_up(s: Any, days: list[tuple[uuid.UUID, uuid.UUID, date]]) -> None:
    """Keep the days present of each worker, project and month before their daily rows go."""
    months: dict[tuple[uuid.UUID, uuid.UUID, date], set[int]] = {}
    for worker, project, day in days:
        months.setdefault((worker, project, day.replace(day=1)), set()).add(day.day)
    for (worker, project, month), got in months.items():
        row = s.exec(
            select_model(AttendanceMonth).where(
                AttendanceMonth.worker_id == worker,
                AttendanceMonth.project_id == project,
                AttendanceMonth.month == month,
            )
        ).first()
        if row is None:
            row = AttendanceMonth(worker_id=worker, project_id=project, month=month, days="", days_present=0)
        have = {int(d) for d in row.days.split(",") if d} | got
        row.days = ",".join(str(d) for d in sorted(have))
        row.days_present = len(have)
        s.add(row)
    s.flush()
