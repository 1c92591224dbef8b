"""Hours on site for wages: per worker and work date, the first entry (the day's attendance), the departure
(出场: scanned, by phone, 自动签退 or 补录), the hours between them and how each was recorded.

A day with an entry and no departure is ``open``: its hours are None and every export marks it (未签退),
never guessed. A departure without an entry (``no_entry``) has no hours either. Hours are the time on site
between entry and departure, in hours rounded to two decimals; nothing is deducted (breaks are the wage
office's rule, not the gate's).

Two set-based queries over a date range (attendance and departures of the project), so a month of 5 000
workers reads in well under a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.roster.tables import ATT, DEP, raw_id
from store.rules.direction import Method
from store.timeutil import as_utc


@dataclass(slots=True)
class DayHours:
    """One worker's day on the project."""

    day: date
    first_in: datetime | None = None  # UTC
    in_method: str | None = None  # Method value of the entry (scan / phone)
    last_out: datetime | None = None  # UTC
    out_method: str | None = None  # Method value of the departure
    no_entry: bool = False  # left without an entry that day
    note: str | None = None  # 补录: the supervisor's reason
    actor: str | None = None  # 补录: who

    @property
    def open(self) -> bool:
        """Entered and never left (no departure recorded): hours not known."""
        return self.first_in is not None and self.last_out is None

    @property
    def hours(self) -> float | None:
        if self.first_in is None or self.last_out is None:
            return None
        return round(max(0.0, (self.last_out - self.first_in).total_seconds()) / 3600, 2)


@dataclass(slots=True)
class WorkerHours:
    days: dict[date, DayHours] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """The hours of the days with both an entry and a departure."""
        return round(sum(h for d in self.days.values() if (h := d.hours) is not None), 2)

    @property
    def open_days(self) -> int:
        return sum(1 for d in self.days.values() if d.open)

    def count(self, method: Method) -> int:
        """Days whose departure was recorded this way (自动签退, 补录 …)."""
        return sum(1 for d in self.days.values() if d.out_method == method.value)


def _day(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def hours_on(conn: Connection, project_id: uuid.UUID, first: date, last: date) -> dict[Any, WorkerHours]:
    """Every worker's days on the project between two work dates, keyed by the worker id as the driver
    returns it (the roster's row keys)."""
    out: dict[Any, WorkerHours] = {}

    def day_of(key: Any, d: Any) -> DayHours:
        wh = out.get(key)
        if wh is None:
            wh = out[key] = WorkerHours()
        day = _day(d)
        got = wh.days.get(day)
        if got is None:
            got = wh.days[day] = DayHours(day)
        return got

    for key, d, first_at, way in conn.execute(
        select(raw_id(ATT.worker_id), ATT.work_date, ATT.first_at, ATT.way).where(
            ATT.project_id == project_id, ATT.work_date >= first, ATT.work_date <= last
        )
    ):
        h = day_of(key, d)
        h.first_in, h.in_method = as_utc(first_at), Method.of_way(way).value
    for key, d, at, method, no_entry, note, actor in conn.execute(
        select(
            raw_id(DEP.worker_id), DEP.work_date, DEP.at, DEP.method, DEP.no_entry, DEP.note, DEP.actor
        ).where(DEP.project_id == project_id, DEP.work_date >= first, DEP.work_date <= last)
    ):
        h = day_of(key, d)
        h.last_out, h.out_method, h.note, h.actor = as_utc(at), method, note, actor
        h.no_entry = bool(no_entry) and h.first_in is None
    return out


def load_hours(engine: Engine, project_id: uuid.UUID, first: date, last: date) -> dict[Any, WorkerHours]:
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return hours_on(conn, project_id, first, last)


def iter_days(hours: dict[Any, WorkerHours]) -> Iterator[tuple[Any, DayHours]]:
    for key, wh in hours.items():
        for day in sorted(wh.days):
            yield key, wh.days[day]


def format_hours(h: float | None) -> str:
    """8.5 → "8.5", 8.0 → "8", None → ""."""
    if h is None:
        return ""
    return f"{h:.2f}".rstrip("0").rstrip(".")
