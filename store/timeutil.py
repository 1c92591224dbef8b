"""Time: every stored time is timezone-aware UTC; work dates and the times shown are a project's local ones.

One default zone (``DEFAULT_ZONE``, a project's zone when none is set), the local-time formatting every
screen, export and message uses (``local_time``, ``local_hm``, ``local_hms``, ``local_date``), and the
parsing of the dates and months a user types (``parse_day``, ``parse_month``, ``parse_date``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from store.errors import StoreError
from store.errors import ValidationError as FieldError

#: the zone of a project, a kiosk or a screen that names none
DEFAULT_ZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already (that is how we store them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def _zone_of(tz: str | tzinfo) -> tzinfo:
    return zone(tz) if isinstance(tz, str) else tz


def local_date(at: datetime, tz_name: str | tzinfo = DEFAULT_ZONE) -> date:
    """The work date: the site's local calendar date at instant ``at`` (23:30 UTC is tomorrow in Shanghai)."""
    return as_utc(at).astimezone(_zone_of(tz_name)).date()


def local_time(at: datetime | None, tz: str | tzinfo = DEFAULT_ZONE, fmt: str = "%H:%M") -> str:
    """Instant ``at`` (aware; naive means UTC) as the site's local time in ``fmt``; "" for None."""
    return "" if at is None else as_utc(at).astimezone(_zone_of(tz)).strftime(fmt)


def local_hm(at: datetime | None, tz: str | tzinfo = DEFAULT_ZONE) -> str:
    """``08:05``: the site's local hour and minute."""
    return local_time(at, tz, "%H:%M")


def local_hms(at: datetime | None, tz: str | tzinfo = DEFAULT_ZONE) -> str:
    """``08:05:09``: the site's local time to the second."""
    return local_time(at, tz, "%H:%M:%S")


def local_minute(at: datetime | None, tz: str | tzinfo = DEFAULT_ZONE) -> str:
    """``2026-03-01 08:05``: the site's local date and time to the minute."""
    return local_time(at, tz, "%Y-%m-%d %H:%M")


def parse_day(text: str) -> date:
    """A date the user typed as ``YYYY-MM-DD`` (``--day``, ``--since``)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise StoreError(f"日期格式应为 YYYY-MM-DD：{text}", f"A date is written YYYY-MM-DD: {text}") from exc


def parse_month(text: str) -> tuple[int, int]:
    """A month the user typed as ``YYYY-MM``: (year, month)."""
    try:
        d = datetime.strptime(text.strip(), "%Y-%m")
    except ValueError as exc:
        raise StoreError(f"月份格式应为 YYYY-MM：{text}", f"A month is written YYYY-MM: {text}") from exc
    return d.year, d.month


def parse_date(v: Any) -> date:
    """A date from a spreadsheet cell or a form field: a date, ``YYYY-MM-DD``, ``YYYY/MM/DD``,
    ``YYYY.MM.DD``, ``YYYY年MM月DD日``, ``YYYYMMDD`` (a time after it is ignored). A bad one raises
    ``ValidationError`` on the field ``date``."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    for sep in ("/", ".", "年", "月"):
        s = s.replace(sep, "-")
    s = s.rstrip("日").split(" ")[0].split("T")[0]
    try:
        if s.isdigit() and len(s) == 8:
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
        y, m, d = (int(x) for x in s.split("-"))
        return date(y, m, d)
    except ValueError as exc:
        raise FieldError(
            "date", f"日期无效：{v}（应为YYYY-MM-DD）", f"Not a date: {v} (use YYYY-MM-DD)"
        ) from exc


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is taken as UTC."""
    return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite keeps the UTC wall time as text. Both come back aware, so
    comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)
