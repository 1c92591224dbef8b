"""Live changes for kiosks without a database connection each (issue 24): one per service process.

``SyncHub`` LISTENs once (store/sync/live.py: PostgreSQL NOTIFY, or polling the counter of a SQLite file)
on its own thread. When something changed it asks the database once what (``changes_since``: which
projects, written by which kiosk) and wakes only the long-polls of kiosks that would pull something they
did not write themselves. A flood of NOTIFYs costs one look per ``SETTLE_S``: each waiting kiosk wakes
at most once, and its own push does not wake it.

With kiosks waiting it also reads their keys once a second (one query for all of them): a key revoked,
no longer approved, or approved for other projects ends that kiosk's wait at once (``Waiter.refused`` /
``Waiter.rescoped``), so a revoked kiosk is refused within seconds, not at the end of its long-poll.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine

from store.db.engine import translate_errors
from store.db.models import KioskKey
from store.errors import StoreError
from store.sync.exchange import Changes, changes_since
from store.sync.keys import APPROVED, REVOKED, KioskAuthError, parse_projects

log = logging.getLogger(__name__)
#: after a notification, wait this long for more before looking (a burst is one look)
SETTLE_S = 0.2


@dataclass(eq=False)
class Waiter:
    projects: frozenset[uuid.UUID]
    kiosk: uuid.UUID
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    #: the key was revoked or is no longer approved while waiting: the wait answers this refusal
    refused: KioskAuthError | None = None
    #: the key's projects changed while waiting: the kiosk pulls afresh
    rescoped: bool = False

    def end(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


class SyncHub:
    def __init__(self, engine: Engine, *, poll_s: float = 0.25) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.looks = 0  # how many times it asked the database what changed (tests, bench)
        self._waiters: set[Waiter] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rev = -1

    def start(self) -> SyncHub:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sync-hub", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def add(self, w: Waiter) -> None:
        with self._lock:
            self._waiters.add(w)

    def remove(self, w: Waiter) -> None:
        with self._lock:
            self._waiters.discard(w)

    def _url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def _run(self) -> None:
        from store.sync.live import ChangeListener

        try:
            live = ChangeListener(self._url(), poll_s=self.poll_s).start()
        except StoreError:
            log.warning("sync hub: cannot listen for changes")
            return
        with live:
            self._look()
            while not self._stop.is_set():
                got = live.wait(1.0)
                if got:
                    self._stop.wait(SETTLE_S)
                    while live.wait(0.0):  # what came meanwhile is part of this look
                        pass
                # with kiosks waiting, a look each second too: on PostgreSQL a row is handed out only
                # once every older transaction has ended (exchange.Window), which sends no NOTIFY
                with self._lock:
                    waiting = bool(self._waiters)
                if got or waiting:
                    self._look()
                if waiting:
                    self._check_keys()

    def _look(self) -> None:
        try:
            if self._rev < 0:
                self._rev = changes_since(self.engine, 1 << 62).high
                return
            changes = changes_since(self.engine, self._rev)
        except StoreError:
            return
        self.looks += 1
        self._rev = max(self._rev, changes.high)
        if changes.everyone or changes.by_project:
            self.wake(changes)

    def _check_keys(self) -> None:
        """End the wait of every kiosk whose key was revoked, unapproved or rescoped meanwhile."""
        with self._lock:
            waiters = list(self._waiters)
        kiosks = {w.kiosk for w in waiters}
        if not kiosks:
            return
        t = KioskKey.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
        try:
            with translate_errors(str(self.engine.url)), self.engine.connect() as conn:
                keys = {
                    r.kiosk_id: r
                    for r in conn.execute(
                        select(t.c.kiosk_id, t.c.status, t.c.projects).where(t.c.kiosk_id.in_(kiosks))
                    )
                }
        except StoreError:
            return
        for w in waiters:
            k = keys.get(w.kiosk)
            if k is None or k.status == REVOKED:
                w.refused = KioskAuthError(
                    403, "revoked", "这台签到机的密钥已被吊销", "This kiosk's key is revoked"
                )
            elif k.status != APPROVED:
                w.refused = KioskAuthError(
                    403,
                    "pending",
                    "这台签到机尚未获批准：请管理员运行 kiosk kiosk approve",
                    "This kiosk is not approved yet: the administrator runs kiosk kiosk approve",
                )
            elif parse_projects(k.projects) != w.projects:
                w.rescoped = True
            else:
                continue
            w.end()

    def wake(self, changes: Changes) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for w in waiters:
            if changes.concerns(w.projects, w.kiosk):
                w.end()
