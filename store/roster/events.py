"""The kiosk's own event log: what an inspector may ask about a gate kiosk ("who unlocked it on which
morning, and why was the camera off at 7:10?").

One table (``KioskEvent``), one row per event, written where it happens (the officer screen, sync) and
pushed to the shared database with the attempts (store/sync/push.py). The supervisor reads it in
``kiosk roster`` (a tab) and exports it (``kiosk export events``).

What is in it, by kind: unlock (the officer's id, how: camera or scanner), a refused unlock (the reason
code, the officer's id only when the code was a genuine officer's), lock (by key, after idle, on
quitting), a project change, camera lost and back, a sync that failed after working and sync back,
clock drift over the tolerance and back within it, quitting. Never a personal value beyond the
officer's id: no names, no codes or their hashes, no worker ids, no positions. ``detail`` is short,
plain text (a drift in seconds, the first line of an error with the database password removed).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.db.models import Kiosk, KioskEvent, Officer, SignInAttempt, SyncState
from store.db.revision import take_revisions
from store.timeutil import DEFAULT_ZONE, as_utc, local_time, parse_instant, utcnow

log = logging.getLogger(__name__)

#: the syncstate key of this kiosk's id (store/sync/identity.py keeps it)
KIOSK_ID_KEY = "kiosk.id"
DETAIL_MAX = 200


class EventKind(StrEnum):
    UNLOCK = "unlock"
    UNLOCK_REFUSED = "unlock_refused"
    LOCK = "lock"
    PROJECT_CHANGED = "project_changed"
    CAMERA_LOST = "camera_lost"
    CAMERA_BACK = "camera_back"
    SYNC_FAILED = "sync_failed"
    SYNC_BACK = "sync_back"
    CLOCK_DRIFT = "clock_drift"
    CLOCK_OK = "clock_ok"
    QUIT = "quit"

    def label(self, lang: str = "zh") -> str:
        zh, en = _LABELS[self]
        return en if lang == "en" else zh


_LABELS: dict[EventKind, tuple[str, str]] = {
    EventKind.UNLOCK: ("解锁", "unlocked"),
    EventKind.UNLOCK_REFUSED: ("解锁被拒", "unlock refused"),
    EventKind.LOCK: ("锁定", "locked"),
    EventKind.PROJECT_CHANGED: ("切换项目", "project changed"),
    EventKind.CAMERA_LOST: ("摄像头断开", "camera lost"),
    EventKind.CAMERA_BACK: ("摄像头恢复", "camera back"),
    EventKind.SYNC_FAILED: ("同步失败", "sync failed"),
    EventKind.SYNC_BACK: ("同步恢复", "sync back"),
    EventKind.CLOCK_DRIFT: ("时钟偏差", "clock drift"),
    EventKind.CLOCK_OK: ("时钟恢复正常", "clock back in step"),
    EventKind.QUIT: ("退出程序", "quit"),
}

#: how it happened
HOW: dict[str, tuple[str, str]] = {
    "camera": ("摄像头", "camera"),
    "scanner": ("扫码枪", "scanner"),
    "key": ("按键", "key"),
    "idle": ("无操作超时", "idle timeout"),
    "quit": ("退出", "on quitting"),
    "sync": ("同步时", "at sync"),
}


def how_label(how: str | None, lang: str = "zh") -> str:
    if not how:
        return ""
    zh, en = HOW.get(how, (how, how))
    return en if lang == "en" else zh


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:DETAIL_MAX]


# Keyword-only ids like signin's record_refusal: the columns of an event row.
def event_row(
    kind: EventKind | str,
    *,
    kiosk_id: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    officer_id: uuid.UUID | None = None,
    how: str | None = None,
    reason: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> KioskEvent:
    return KioskEvent(
        at=as_utc(at) if at is not None else utcnow(),
        kind=EventKind(kind).value,
        kiosk_id=kiosk_id,
        project_id=project_id,
        officer_id=officer_id,
        how=how,
        reason=reason,
        detail=_clip(detail),
    )


def insert_event(conn: Connection, kind: EventKind | str, **fields: Any) -> KioskEvent:
    """Add one event inside the caller's transaction, with a revision of its own (so it is pushed). Without
    a kiosk id it gets the one the store keeps, and the kiosk's project when its row names one."""
    row = event_row(kind, **fields)
    st, k = SyncState.__table__, Kiosk.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    if row.kiosk_id is None:
        kept = conn.execute(select(st.c.value).where(st.c.key == KIOSK_ID_KEY)).scalar()
        row.kiosk_id = uuid.UUID(kept) if kept else None
    if row.project_id is None and row.kiosk_id is not None:
        row.project_id = conn.execute(select(k.c.project_id).where(k.c.id == row.kiosk_id)).scalar()
    row.rev = take_revisions(conn, 1)
    values = {c.name: getattr(row, c.name) for c in KioskEvent.__table__.columns}  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    conn.execute(insert(KioskEvent.__table__), values)  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    log.info("event %s how=%s reason=%s", row.kind, row.how or "-", row.reason or "-")
    return row


def record_event(engine: Engine, kind: EventKind | str, **fields: object) -> KioskEvent:
    """Write one event in its own short transaction (``BEGIN IMMEDIATE`` on SQLite)."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            return insert_event(conn, kind, **fields)


@dataclass(frozen=True, slots=True)
class EventRow:
    id: uuid.UUID
    at: datetime
    kind: str
    kiosk: str  # the kiosk's name, or its id when unknown
    officer_id: uuid.UUID | None
    officer: str  # the officer's name as the reader's database knows him ("" when none)
    how: str | None
    reason: str | None
    detail: str | None

    def kind_label(self, lang: str = "zh") -> str:
        try:
            return EventKind(self.kind).label(lang)
        except ValueError:
            return self.kind

    def reason_text(self, lang: str = "zh") -> str:
        if not self.reason:
            return ""
        from store.reasons import Reason

        try:
            return Reason(self.reason).message(lang)
        except ValueError:
            return self.reason


def list_events(
    engine: Engine | Connection,
    *,
    since: datetime,
    until: datetime,
    project_id: uuid.UUID | None = None,
    kiosk_ids: Sequence[uuid.UUID] = (),
) -> list[EventRow]:
    """Events in ``[since, until)``, oldest first. With a project: its own events, plus the events that
    name no project of the kiosks that belong to it or signed people in for it in that time."""
    ev, k, o, sa = KioskEvent.__table__, Kiosk.__table__, Officer.__table__, SignInAttempt.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    q = (
        select(ev, k.c.name.label("kiosk_name"), o.c.name.label("officer_name"))
        .select_from(ev.outerjoin(k, k.c.id == ev.c.kiosk_id).outerjoin(o, o.c.id == ev.c.officer_id))
        .where(ev.c.at >= as_utc(since), ev.c.at < as_utc(until))
        .order_by(ev.c.at, ev.c.id)
    )
    if project_id is not None:
        its_kiosks = select(k.c.id).where(k.c.project_id == project_id)
        signed_for_it = select(sa.c.kiosk_id).where(
            sa.c.project_id == project_id,
            sa.c.at >= as_utc(since),
            sa.c.at < as_utc(until),
            sa.c.kiosk_id.is_not(None),
        )
        q = q.where(
            or_(
                ev.c.project_id == project_id,
                and_(
                    ev.c.project_id.is_(None),
                    or_(ev.c.kiosk_id.in_(its_kiosks), ev.c.kiosk_id.in_(signed_for_it)),
                ),
            )
        )
    if kiosk_ids:
        q = q.where(ev.c.kiosk_id.in_(list(kiosk_ids)))

    def run(conn: Connection) -> list[EventRow]:
        return [
            EventRow(
                id=m["id"],
                at=as_utc(m["at"]),
                kind=m["kind"],
                kiosk=m["kiosk_name"] or (str(m["kiosk_id"])[:8] if m["kiosk_id"] else ""),
                officer_id=m["officer_id"],
                officer=m["officer_name"] or "",
                how=m["how"],
                reason=m["reason"],
                detail=m["detail"],
            )
            for m in conn.execute(q).mappings()
        ]

    if isinstance(engine, Connection):
        return run(engine)
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return run(conn)


def day_bounds(since: date, until: date, tz: str) -> tuple[datetime, datetime]:
    """The instants from the start of ``since`` to the end of ``until``, in the project's time zone."""
    from store.timeutil import zone

    z = zone(tz)
    return (
        datetime.combine(since, time(0), tzinfo=z),
        datetime.combine(until + timedelta(days=1), time(0), tzinfo=z),
    )


def project_events(
    engine: Engine, project_id: uuid.UUID, since: date, until: date, tz: str
) -> list[EventRow]:
    """A project's kiosk events over local dates ``since..until`` (both included)."""
    start, end = day_bounds(since, until, tz)
    return list_events(engine, since=start, until=end, project_id=project_id)


def describe(e: EventRow, lang: str = "zh") -> str:
    """How and why, in words: '扫码枪 · 该签到员未被分配到本项目', 'camera · failed'."""
    parts = [how_label(e.how, lang)]
    if e.kind == EventKind.UNLOCK_REFUSED:
        parts.append(e.reason_text(lang))
    elif e.kind in (EventKind.CAMERA_LOST, EventKind.CLOCK_DRIFT) and e.reason:
        parts.append(_REASON_WORDS.get(e.reason, (e.reason, e.reason))[1 if lang == "en" else 0])
    return " · ".join(p for p in parts if p)


def detail_text(e: EventRow, lang: str = "zh", tz: str = DEFAULT_ZONE) -> str:
    """An event's detail as a person reads it, in his language and the site's time: the kiosk stores a
    sync failure's English words and an "offline since <UTC instant>"; shown in Chinese they become words
    of what happened and a local time."""
    detail = e.detail or ""
    if e.kind == EventKind.SYNC_BACK and detail.startswith("offline since "):
        try:
            since = local_time(parse_instant(detail.removeprefix("offline since ")), tz, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return detail
        return f"offline since {since}" if lang == "en" else f"自 {since} 起离线"
    if e.kind == EventKind.SYNC_FAILED and lang != "en":
        return _SYNC_FAILURE_WORDS.get(e.reason or "", _SYNC_FAILURE_WORDS[""])
    return detail


_SYNC_FAILURE_WORDS: dict[str, str] = {
    "DatabaseUnavailable": "无法连接共享数据库（网络或服务器问题），恢复后自动重试",
    "ReadRefused": "共享数据库拒绝了本机账号的读取：请管理员运行 kiosk db roles 授权",
    "SyncTimedOut": "共享数据库在时限内没有应答，稍后自动重试",
    "NotMigrated": "数据库结构需要升级：请运行 kiosk db upgrade",
    "DatabaseLocked": "本机数据库被其他程序占用，稍后自动重试",
    "": "同步未完成，稍后自动重试（详情见英文说明或 kiosk sync --status）",
}


_REASON_WORDS: dict[str, tuple[str, str]] = {
    "reconnecting": ("正在重连", "reconnecting"),
    "failed": ("故障", "failed"),
    "ahead": ("本机时钟偏快", "kiosk clock ahead"),
    "behind": ("本机时钟偏慢", "kiosk clock behind"),
}
