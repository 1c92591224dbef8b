"""Time helpers: every stored time is timezone-aware UTC; work dates are a project's local date."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

DEFAULT_TZ = "Asia/Shanghai"


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


def local_date(at: datetime, tz_name: str = DEFAULT_TZ) -> date:
    """The work date: the site's local calendar date at instant ``at`` (23:30 UTC is tomorrow in Shanghai)."""
    return as_utc(at).astimezone(zone(tz_name)).date()


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
