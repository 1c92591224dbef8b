"""Where a report reads its truth, and whether that place holds the whole period asked.

Every export and the roster read one **source**:

- ``local``: a kiosk's own store (SQLite). It holds the workers and projects it pulled, its own sign-ins,
  and the attendance of *every* kiosk only for the last ``ATTENDANCE_DAYS`` days before today (sync's pull
  window, store/sync/pull.py): a month read there would be a sheet of zeros. A store is a kiosk's when it
  has synced with a shared database (its ``syncstate`` holds a pull or push cursor).
- ``office``: the shared (office) database, by its URL: the whole record.
- ``service`` (to come with the sync API over HTTP): the service reads the office database for the kiosk.
  It plugs in as another ``Source``: a ``kind``, a ``where``, ``covers(first, last, today)`` and the
  readers an export calls.

``Source.require(first, last, what=…)`` refuses a period the source does not hold with a sentence that
names the source that does and the command to run there; ``Source.header(lang)`` is the line every export
writes into its title: the source and the time it was read (the site's time zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine

from store.db.urls import shown
from store.errors import StoreError
from store.sync.state import PULL_REV, PUSH_REV, read_state
from store.timeutil import DEFAULT_ZONE, local_date, local_minute, utcnow

SourceKind = Literal["local", "office", "service"]

#: how many days before today a kiosk's store holds every kiosk's attendance (sync/pull's window)
LOCAL_DAYS = 2

_KIND_WORDS: dict[str, tuple[str, str]] = {
    "local": ("本机存储", "this kiosk's local store"),
    "office": ("办公室数据库", "the office database"),
    "service": ("签到服务", "the sign-in service"),
}


class PeriodNotHeld(StoreError):
    """The source does not hold the whole period asked (exit 2, the message names where to read it)."""


def is_kiosk_store(engine: Engine) -> bool:
    """Whether ``engine`` is a kiosk's local store: it has pulled from or pushed to a shared database."""
    with engine.connect() as conn:
        state = read_state(conn)
    return PULL_REV in state or PUSH_REV in state


@dataclass(frozen=True, slots=True)
class Source:
    """A place a report reads: its kind, where it is (a path or a URL without password), its engine."""

    kind: SourceKind
    where: str
    engine: Engine
    #: when it was read (UTC); set when opened, written into every export's header
    read_at: datetime = field(default_factory=utcnow)
    #: the command to run where the truth is, for the refusal (e.g. ``kiosk export monthly --db URL``)
    elsewhere: str = ""

    def label(self, lang: str = "zh") -> str:
        zh, en = _KIND_WORDS[self.kind]
        return f"{en} {self.where}" if lang == "en" else f"{zh} {self.where}"

    def header(self, tz: str = DEFAULT_ZONE, lang: str = "zh") -> str:
        """The source and read time as an export's header says them."""
        at = local_minute(self.read_at, tz)
        if lang == "en":
            return f"source: {self.label('en')}, read {at}"
        return f"数据来源：{self.label('zh')}　读取于 {at}"

    def first_day(self, today: date) -> date | None:
        """The first day whose attendance this source holds whole (None: every day)."""
        if self.kind == "local":
            return today - timedelta(days=LOCAL_DAYS - 1)
        return None

    def covers(self, first: date, last: date, today: date) -> bool:
        start = self.first_day(today)
        return start is None or first >= start

    def require(
        self,
        first: date,
        last: date,
        *,
        tz: str = DEFAULT_ZONE,
        what: tuple[str, str],
        every_kiosk: bool = False,
    ) -> None:
        """Refuse (``PeriodNotHeld``) a period from ``first`` to ``last`` this source does not hold whole.
        ``what``: the report in Chinese and English ("月度考勤表", "the monthly sheet"). ``every_kiosk``: a
        report of attempts or events, which a kiosk never pulls from the others (its store holds its own)."""
        command = self.elsewhere or "kiosk export … --db URL"
        if every_kiosk and self.kind == "local":
            raise PeriodNotHeld(
                f"本机只保存本机的记录，全部签到设备的{what[0]}请在办公室导出：{command}",
                f"This kiosk keeps only its own records; export {what[1]} of every kiosk in the office, "
                f"from the office database: {command}",
            )
        today = local_date(self.read_at, tz)
        if self.covers(first, last, today):
            return
        start = self.first_day(today)
        raise PeriodNotHeld(
            f"本机只保存近{LOCAL_DAYS}天的考勤（{start} 起），{what[0]}请在办公室导出：{command}",
            f"This kiosk keeps only the last {LOCAL_DAYS} days of attendance (from {start}); read "
            f"{what[1]} in the office, from the office database: {command}",
        )


def open_source(
    engine: Engine,
    url: str,
    *,
    kind: SourceKind | None = None,
    elsewhere: str = "",
    now: datetime | None = None,
) -> Source:
    """The source ``engine`` (opened from ``url``) is: ``kind`` when the caller knows it, else a kiosk's
    store when it has synced, else the office database."""
    if kind is None:
        kind = "local" if is_kiosk_store(engine) else "office"
    return Source(kind, shown(url), engine, now or utcnow(), elsewhere)
