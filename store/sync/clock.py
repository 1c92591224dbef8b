"""The kiosk's clock against the shared database's: a two-minute code is judged by the kiosk's clock, so
a kiosk five minutes fast refuses every fresh code as "not yet valid" and one five minutes slow takes
expired ones.

At every sync (store/sync/rounds.py) ``measure_drift`` asks PostgreSQL for ``now()`` and compares it with the
kiosk's clock at the middle of the round trip (positive: the kiosk is ahead). A SQLite shared file has
no clock of its own (it is read with the kiosk's, or another laptop's, through a file share), so there
is nothing to compare with: the drift is unknown (None).

The last measurement is kept in the local ``syncstate`` table (``clock.drift_s``, ``clock.checked_at``)
and shown by ``kiosk sync --status`` and the officer's screen; crossing ``[policy] clock_skew_s`` one way
or the other is an event of the kiosk's log (store/roster/events.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from store.timeutil import as_utc, utcnow

DRIFT_S = "clock.drift_s"
CHECKED_AT = "clock.checked_at"
DRIFTING = "clock.drifting"


def measure_drift(shared: Engine, clock: Callable[[], datetime] = utcnow) -> float | None:
    """Seconds the kiosk's clock is ahead of the shared database's (negative: behind); None on SQLite."""
    if shared.dialect.name != "postgresql":
        return None
    with shared.connect() as conn:
        t0 = clock()
        server = conn.execute(text("SELECT now()")).scalar_one()
        t1 = clock()
        conn.rollback()
    middle = t0 + (t1 - t0) / 2
    return round((as_utc(middle) - as_utc(server)).total_seconds(), 3)


def spoken(seconds: float, lang: str = "zh") -> str:
    """312.4 -> '5 分 12 秒' / '5 min 12 s'."""
    s = round(abs(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if lang == "en":
        parts = [f"{h} h" if h else "", f"{m} min" if m else "", f"{sec} s" if sec or not (h or m) else ""]
    else:
        parts = [f"{h} 小时" if h else "", f"{m} 分" if m else "", f"{sec} 秒" if sec or not (h or m) else ""]
    return " ".join(p for p in parts if p)


def drifting(drift_s: float | None, skew_s: float) -> bool:
    return drift_s is not None and abs(drift_s) > skew_s


def drift_message(drift_s: float | None, skew_s: float, lang: str = "zh") -> str:
    """The clock in plain words, for ``kiosk sync --status``, ``kiosk doctor`` and the officer's screen."""
    en = lang == "en"
    if drift_s is None:
        return (
            "Not checked: a SQLite shared database has no clock of its own"
            if en
            else "未核对：共享数据库为 SQLite 文件，没有自己的时钟"
        )
    amount = spoken(drift_s, lang)
    if not drifting(drift_s, skew_s):
        return (
            f"In step with the shared database (within {amount})"
            if en
            else f"与共享数据库时间一致（相差 {amount}）"
        )
    if en:
        way = "ahead of" if drift_s > 0 else "behind"
        refused = "not yet valid" if drift_s > 0 else "expired (and expired ones accepted)"
        return (
            f"This kiosk's clock is {amount} {way} the shared database's, more than the {int(skew_s)} s "
            f"allowed: workers' codes would be refused as {refused}. Set the time of this computer "
            "(turn on automatic time)."
        )
    way = "快" if drift_s > 0 else "慢"
    refused = "“尚未生效”" if drift_s > 0 else "“已过期”（过期的码反而可能通过）"
    return (
        f"本机时钟比共享数据库{way} {amount}，超过允许的 {int(skew_s)} 秒：工人的建设码会被误判为{refused}。"
        "请校准本机时间（开启自动对时）。"
    )


def short_warning(drift_s: float, lang: str = "zh") -> str:
    """For the status line: '⚠ 时钟快 5 分 12 秒'."""
    if lang == "en":
        return f"⚠ clock {spoken(drift_s, lang)} {'fast' if drift_s > 0 else 'slow'}"
    return f"⚠ 时钟{'快' if drift_s > 0 else '慢'} {spoken(drift_s, lang)}"
