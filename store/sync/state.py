"""Sync bookkeeping in the ``syncstate`` key/value table, and ``SyncStatus``: what the officer screen shows.

Keys on a kiosk's local store:

- ``pull.rev``: the shared database's revision this kiosk has pulled up to (the pull cursor);
- ``push.rev``: the kiosk's own revision it has pushed up to (the push cursor);
- ``kiosk.id``: this kiosk's id (store/sync/identity.py); a kiosk login pushes for this kiosk only;
- ``shared.id``: the ``db.id`` of the shared database the cursors belong to (another database: start afresh);
- ``last_success``, ``last_attempt``, ``offline_since`` (ISO instants), ``last_error_zh``/``last_error_en``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.db.models import Attendance, Departure, GatePhoto, KioskEvent, SignInAttempt, SyncState
from store.timeutil import DEFAULT_ZONE, as_utc, local_hm, parse_instant, utcnow

PULL_REV = "pull.rev"
PUSH_REV = "push.rev"
SHARED_ID = "shared.id"
DB_ID = "db.id"
KIOSK_ID = "kiosk.id"  # this kiosk's own id (store/sync/identity.py), what it pushes for
LAST_SUCCESS = "last_success"
LAST_ATTEMPT = "last_attempt"
OFFLINE_SINCE = "offline_since"
LAST_ERROR_ZH = "last_error_zh"
LAST_ERROR_EN = "last_error_en"

#: what a kiosk pushes, by the name its counts go under
PUSHED_TABLES: dict[str, Table] = {
    "attendance": Attendance.__table__,  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    "attempts": SignInAttempt.__table__,  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    "photos": GatePhoto.__table__,  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    "events": KioskEvent.__table__,  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    "departures": Departure.__table__,  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
}

_T = SyncState.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__


def read_state(conn: Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in conn.execute(select(_T.c.key, _T.c.value))}


def write_state(conn: Connection, values: Mapping[str, str | None]) -> None:
    """Set (or, for None, remove) keys, inside the caller's transaction."""
    keys = list(values)
    conn.execute(delete(_T).where(_T.c.key.in_(keys)))
    rows = [{"key": k, "value": v} for k, v in values.items() if v is not None]
    if rows:
        conn.execute(_T.insert(), rows)


def int_state(state: Mapping[str, str], key: str) -> int:
    try:
        return int(state.get(key, "0"))
    except ValueError:
        return 0


def pending_counts(conn: Connection, push_rev: int) -> dict[str, int]:
    """Rows this kiosk made that the shared database has not got yet."""
    return {
        name: int(conn.execute(select(func.count()).where(table.c.rev > push_rev)).scalar_one())
        for name, table in PUSHED_TABLES.items()
    }


#: what each pushed table holds, in words (zh, en), for "what is left to upload"
PENDING_WORDS: dict[str, tuple[str, str]] = {
    "attendance": ("考勤", "attendance days"),
    "attempts": ("签到记录", "sign-in attempts"),
    "photos": ("现场照片", "gate photos"),
    "events": ("设备事件", "kiosk events"),
    "departures": ("离场记录", "departures"),
}


def pending_text(pending: Mapping[str, int], lang: str = "zh") -> str:
    """The rows left to upload in words, e.g. ``签到记录 5、考勤 3`` / ``5 sign-in attempts, 3 attendance
    days`` (tables with none left out)."""
    en = lang == "en"
    parts = []
    for name, n in pending.items():
        if n:
            zh_word, en_word = PENDING_WORDS.get(name, (name, name))
            parts.append(f"{n} {en_word}" if en else f"{zh_word} {n}")
    return (", " if en else "、").join(parts)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The kiosk's sync state for a status line: local only / synced N s ago / offline since HH:MM."""

    state: str  # "local_only" (never synced), "synced", "offline"
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    offline_since: datetime | None = None
    pending: dict[str, int] = field(default_factory=dict)
    last_error_zh: str | None = None
    last_error_en: str | None = None
    pulled_rev: int = 0
    pushed_rev: int = 0
    at: datetime = field(default_factory=utcnow)
    #: the kiosk's clock against the shared database's at the last sync (store/sync/clock.py): seconds ahead
    clock_drift_s: float | None = None
    clock_checked_at: datetime | None = None
    clock_skew_s: float = 30.0

    @property
    def clock_drifting(self) -> bool:
        from store.sync.clock import drifting

        return drifting(self.clock_drift_s, self.clock_skew_s)

    def clock_message(self, lang: str = "zh") -> str | None:
        """The clock in plain words, or None before any sync measured it."""
        from store.sync.clock import drift_message

        if self.clock_checked_at is None:
            return None
        return drift_message(self.clock_drift_s, self.clock_skew_s, lang)

    @property
    def pending_total(self) -> int:
        return sum(self.pending.values())

    def age_s(self, now: datetime | None = None) -> float | None:
        if self.last_success_at is None:
            return None
        return max(0.0, ((now or utcnow()) - self.last_success_at).total_seconds())

    def last_error(self, lang: str = "zh") -> str | None:
        return self.last_error_en if lang == "en" else self.last_error_zh

    def message(self, lang: str = "zh", tz: str = DEFAULT_ZONE, now: datetime | None = None) -> str:
        """One line for the officer screen, e.g. ``已同步（12秒前）· 待上传 3``."""
        en = lang == "en"
        if self.state == "offline" and self.offline_since is not None:
            hhmm = local_hm(self.offline_since, tz)
            text = f"Offline since {hhmm}" if en else f"离线（自 {hhmm}）"
        elif self.state == "synced":
            age = int(self.age_s(now) or 0)
            text = f"Synced {age} s ago" if en else f"已同步（{age}秒前）"
        else:
            text = "Local only (never synced)" if en else "仅本机（尚未同步）"
        if self.pending_total:
            text += f" · {self.pending_total} to upload" if en else f" · 待上传 {self.pending_total}"
        if self.clock_drifting and self.clock_drift_s is not None:
            from store.sync.clock import short_warning

            text += " · " + short_warning(self.clock_drift_s, lang)
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "last_success": self.last_success_at.isoformat() if self.last_success_at else None,
            "age_s": None if self.age_s() is None else round(self.age_s() or 0.0, 1),
            "last_attempt": self.last_attempt_at.isoformat() if self.last_attempt_at else None,
            "offline_since": self.offline_since.isoformat() if self.offline_since else None,
            "pending": dict(self.pending),
            "last_error": self.last_error_en,
            "last_error_zh": self.last_error_zh,
            "pulled_rev": self.pulled_rev,
            "pushed_rev": self.pushed_rev,
            "clock_drift_s": self.clock_drift_s,
            "clock_checked_at": self.clock_checked_at.isoformat() if self.clock_checked_at else None,
            "clock_ok": None
            if self.clock_checked_at is None or self.clock_drift_s is None
            else not self.clock_drifting,
            "clock": self.clock_message("en"),
            "clock_zh": self.clock_message("zh"),
        }


def _instant(state: Mapping[str, str], key: str) -> datetime | None:
    text = state.get(key)
    return as_utc(parse_instant(text)) if text else None


def status(local: Engine, *, clock_skew_s: float = 30.0) -> SyncStatus:
    """The sync state of a kiosk's local store. Local only: never touches the network."""
    from store.sync.clock import CHECKED_AT, DRIFT_S

    with translate_errors(str(local.url)), local.connect() as conn:
        state = read_state(conn)
        pushed = int_state(state, PUSH_REV)
        pending = pending_counts(conn, pushed)
    last_success = _instant(state, LAST_SUCCESS)
    offline_since = _instant(state, OFFLINE_SINCE)
    kind = "offline" if offline_since else "synced" if last_success else "local_only"
    return SyncStatus(
        state=kind,
        last_success_at=last_success,
        last_attempt_at=_instant(state, LAST_ATTEMPT),
        offline_since=offline_since,
        pending=pending,
        last_error_zh=state.get(LAST_ERROR_ZH),
        last_error_en=state.get(LAST_ERROR_EN),
        pulled_rev=int_state(state, PULL_REV),
        pushed_rev=pushed,
        clock_drift_s=float(state[DRIFT_S]) if state.get(DRIFT_S) else None,
        clock_checked_at=_instant(state, CHECKED_AT),
        clock_skew_s=clock_skew_s,
    )
