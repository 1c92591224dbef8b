"""Live changes: wake up when a database's revision counter moves.

PostgreSQL: every write that takes a revision sends ``NOTIFY kiosk_sync, '<revision>'``, delivered at its
commit (``kiosk_take_revisions`` of migration 0004; before it, a trigger of migration 0002) (a kiosk's push, the admin revoking a key, a way-A sign-in);
``ChangeListener`` LISTENs on its own psycopg 3 connection. SQLite has no notifications: the listener
polls the counter (``poll_s``).

Use it from a thread (it blocks)::

    with ChangeListener(shared_url) as live:
        while running:
            if live.wait(timeout=5.0):
                refresh()           # something changed since the last wait (or the connection was lost)

A lost connection counts as "maybe changed" (notifications may have been missed) and is retried on the
next ``wait``; ``wait`` never raises for network trouble.
"""

from __future__ import annotations

import contextlib
import time
from types import TracebackType
from typing import Any

from sqlalchemy.engine import Engine, make_url

from store.db.engine import is_sqlite, make_engine, pg_connect_args
from store.db.revision import current_revision
from store.db.urls import normalise_url

CHANNEL = "kiosk_sync"


def libpq_url(url: str) -> str:
    """A ``postgresql://`` URL psycopg understands (no SQLAlchemy driver suffix)."""
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """Blocks until the database changes. Not thread-safe: one listener per thread."""

    def __init__(self, url: str, *, poll_s: float = 0.5, channel: str = CHANNEL) -> None:
        self.url = url
        self.poll_s = poll_s
        self.channel = channel
        self._sqlite = is_sqlite(url)
        self._engine: Engine | None = None
        self._conn: Any = None  # psycopg.Connection
        self._seen: int | None = None
        self._lost = False

    # --- PostgreSQL ---
    def _connect(self) -> None:
        import psycopg

        self._conn = psycopg.connect(libpq_url(self.url), autocommit=True, **pg_connect_args())
        self._conn.execute(f'LISTEN "{self.channel}"')

    def _wait_pg(self, timeout: float) -> bool:
        import psycopg

        deadline = time.monotonic() + timeout
        try:
            if self._conn is None or self._conn.closed:
                self._connect()
                if self._lost:  # missed whatever happened while away
                    self._lost = False
                    return True
            left = max(0.0, deadline - time.monotonic())
            got = list(self._conn.notifies(timeout=left, stop_after=1))
            if got:  # drain what else is queued, so one burst of commits is one wake-up
                list(self._conn.notifies(timeout=0.05))
            return bool(got)
        except psycopg.Error:
            self._drop()
            self._lost = True
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is gone anyway
                self._conn.close()
        self._conn = None

    # --- SQLite ---
    def _revision(self) -> int | None:
        if self._engine is None:
            self._engine = make_engine(self.url, create=False)  # polling never makes the file
        try:
            with self._engine.connect() as conn:
                return current_revision(conn)
        except Exception:  # a missing or locked file is "no news"; the next poll retries
            return None

    def _wait_sqlite(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._seen is None:
            self._seen = self._revision()
        while True:
            rev = self._revision()
            if rev is not None and rev != self._seen:
                self._seen = rev
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.poll_s, left))

    # --- both ---
    def start(self) -> ChangeListener:
        """Begin listening now (else at the first ``wait``), so changes from here on are not missed."""
        if self._sqlite:
            self._seen = self._revision()
        elif self._conn is None:
            try:
                self._connect()
            except Exception:  # offline: wait() retries
                self._lost = True
        return self

    def wait(self, timeout: float) -> bool:
        """True when the database changed since the last call (or may have); False after ``timeout`` s."""
        return self._wait_sqlite(timeout) if self._sqlite else self._wait_pg(timeout)

    def close(self) -> None:
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> ChangeListener:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def wait_for_change(url: str, timeout: float) -> bool:
    """One-shot: True when the database changes within ``timeout`` seconds (listens from the call on)."""
    with ChangeListener(url) as live:
        return live.wait(timeout)
