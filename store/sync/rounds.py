"""Sync between a kiosk's local SQLite store and the shared database: offline-first, many kiosks.

``sync_once(local, shared)`` pushes what the kiosk recorded (store/sync/push.py), then pulls what
changed in the shared database (store/sync/pull.py), and keeps the outcome in the local ``syncstate``
table; ``status(local)`` reads it back without touching the network (store/sync/state.py). Neither is
ever on the path of a sign-in: the kiosk signs in against its local store and syncs in the background.

``SyncWorker`` is that background: a daemon thread that syncs at ``[sync] interval_s``, at once when
asked (``sync_now``), when the kiosk records something (it watches the local revision counter), and
when the shared database changes (store/sync/live.py: LISTEN/NOTIFY on PostgreSQL, polling on SQLite). The
UI gives it a callback and receives a ``SyncReport`` and a ``SyncStatus`` after every round.

Cursors: pull by the shared database's revision, push by the kiosk's own (see the two modules). A kiosk
pointed at another shared database (its ``db.id`` differs) starts both cursors afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from store.db.engine import deadline, make_engine, translate_errors
from store.db.revision import current_revision
from store.db.urls import redact
from store.errors import StoreError
from store.roster.events import EventKind, insert_event
from store.sync.clock import CHECKED_AT, DRIFT_S, DRIFTING, drifting, measure_drift, spoken
from store.sync.pull import Progress, pull
from store.sync.push import push
from store.sync.state import (
    DB_ID,
    LAST_ATTEMPT,
    LAST_ERROR_EN,
    LAST_ERROR_ZH,
    LAST_SUCCESS,
    OFFLINE_SINCE,
    PULL_REV,
    PUSH_REV,
    SHARED_ID,
    SyncStatus,
    read_state,
    status,
    write_state,
)
from store.timeutil import utcnow

__all__ = [
    "SyncFailed",
    "SyncReport",
    "SyncStatus",
    "SyncTimedOut",
    "SyncWorker",
    "as_failure",
    "record_failure",
    "status",
    "sync_once",
]


log = logging.getLogger(__name__)


class SyncFailed(StoreError):
    """The shared database could not be reached or refused a write; nothing was lost, it will retry."""


class SyncTimedOut(SyncFailed):
    """The shared database stopped answering in the middle of a sync; the sync gave up and will retry."""


#: a sync that has not finished after this many seconds gives up (its connection is cut) and retries
DEADLINE_S = 300.0


# A frozen dataclass of plain fields, like people/imports' RowError: its own fields.
@dataclass(frozen=True, slots=True)
class SyncReport:
    ok: bool
    started_at: datetime
    duration_s: float
    pushed: dict[str, int] = field(default_factory=dict)
    pulled: dict[str, int] = field(default_factory=dict)
    contested_days: int = 0  # days two kiosks both signed someone in (the earliest kept)
    replaced: int = 0  # local attendance rows replaced by an earlier one from another kiosk
    error: StoreError | None = None
    #: seconds this kiosk's clock is ahead of the shared database's (None: not measured, e.g. SQLite)
    clock_drift_s: float | None = None
    rejected: int = 0  # pushed rows the shared database refused (kept there in pushrejection)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "duration_ms": round(self.duration_s * 1000, 1),
            "pushed": self.pushed,
            "pulled": self.pulled,
            "contested_days": self.contested_days,
            "replaced": self.replaced,
            "rejected": self.rejected,
            "error": self.error.en if self.error else None,
            "error_zh": self.error.zh if self.error else None,
            "clock_drift_s": self.clock_drift_s,
        }


def _bind_shared(local: Engine, shared: Engine) -> None:
    """Start the cursors afresh when the shared database is not the one they were taken from."""
    with shared.connect() as sconn:
        shared_id = read_state(sconn).get(DB_ID, "")
    with local.connect() as lconn:
        if read_state(lconn).get(SHARED_ID) != shared_id:
            write_state(lconn, {SHARED_ID: shared_id, PULL_REV: "0", PUSH_REV: "0"})
            lconn.commit()


# The keyword options of pull() and SyncWorker, passed on: one function each.
def sync_once(
    local: Engine,
    shared: Engine,
    *,
    face_thumbs: bool = False,
    photos: bool = True,
    on_progress: Progress | None = None,
    clock_skew_s: float = 30.0,
    clock: Callable[[], datetime] = utcnow,
    deadline_s: float | None = DEADLINE_S,
) -> SyncReport:
    """Compare the clocks, push, then pull. Never raises for a shared database that is down or cut: the
    report says so and the local state remembers it (``offline since``); whatever was not sent is sent
    next time. ``clock`` is the kiosk's clock (store/sync/clock.py; tests move it). A sync still running after
    ``deadline_s`` seconds (the shared database stopped answering) gives up."""
    started, t0 = utcnow(), time.perf_counter()
    url = str(shared.url)
    sent: dict[str, int] = {}  # rows of the batches that committed, even when a later one fails

    def on_push(table: str, n: int) -> None:  # called by push after each batch commits
        sent[table] = sent.get(table, 0) + n
        if on_progress is not None:
            on_progress(table, n)

    timer = None
    try:
        with deadline(shared, deadline_s) as timer, translate_errors(url):
            drift = measure_drift(shared, clock)
            _remember_clock(local, drift, clock_skew_s)
            _bind_shared(local, shared)
            _mark_back(local)
            pushed = push(local, shared, photos=photos, on_progress=on_push)
            pulled = pull(local, shared, face_thumbs=face_thumbs, on_progress=on_progress)
    except (StoreError, DBAPIError) as exc:
        if timer is not None and timer.expired:
            err: StoreError = _timed_out(url, deadline_s or 0.0)
        else:
            err = exc if isinstance(exc, StoreError) else _failed(url, exc)
        _remember(local, started, err)
        log.warning("sync failed: %s", err.en)
        return SyncReport(False, started, time.perf_counter() - t0, pushed=dict(sent), error=err)
    _remember(local, started, None)
    log.info(
        "sync ok in %.0f ms: pushed %s, pulled %s, clock drift %s s",
        (time.perf_counter() - t0) * 1000,
        pushed.rows,
        pulled.rows,
        drift,
    )
    return SyncReport(
        True,
        started,
        time.perf_counter() - t0,
        pushed=pushed.rows,
        pulled=pulled.rows,
        contested_days=pushed.conflicts,
        replaced=pulled.replaced,
        clock_drift_s=drift,
        rejected=pushed.rejected,
    )


def _mark_back(local: Engine) -> None:
    """The shared database answers again after failing: logged before the push, so the event goes with it."""
    with translate_errors(str(local.url)), local.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            state = read_state(conn)
            if OFFLINE_SINCE in state and state.get(BACK_LOGGED) != state[OFFLINE_SINCE]:
                insert_event(
                    conn, EventKind.SYNC_BACK, how="sync", detail=f"offline since {state[OFFLINE_SINCE]}"
                )
                write_state(conn, {BACK_LOGGED: state[OFFLINE_SINCE]})


def _remember_clock(local: Engine, drift: float | None, skew_s: float) -> None:
    """Keep the last measurement; crossing the tolerance either way is an event of the kiosk's log."""
    with translate_errors(str(local.url)), local.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            was = read_state(conn).get(DRIFTING) == "1"
            now = drifting(drift, skew_s)
            write_state(
                conn,
                {
                    DRIFT_S: None if drift is None else f"{drift:.3f}",
                    CHECKED_AT: utcnow().isoformat(),
                    DRIFTING: "1" if now else None,
                },
            )
            if now and not was:
                assert drift is not None
                sign = "+" if drift > 0 else "-"
                insert_event(
                    conn,
                    EventKind.CLOCK_DRIFT,
                    how="sync",
                    reason="ahead" if drift > 0 else "behind",
                    detail=f"{sign}{abs(drift):.0f} s ({spoken(drift, 'en')}; allowed {skew_s:.0f} s)",
                )
            elif was and not now:
                insert_event(
                    conn, EventKind.CLOCK_OK, how="sync", detail=None if drift is None else f"{drift:+.0f} s"
                )


def _failed(url: str, exc: DBAPIError) -> SyncFailed:
    text = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
    return SyncFailed(
        f"与共享数据库 {redact(url)} 同步失败：{text}", f"Sync with {redact(url)} failed: {text}"
    )


def _timed_out(url: str, seconds: float) -> SyncTimedOut:
    return SyncTimedOut(
        f"同步超时：共享数据库 {redact(url)} {seconds:.0f} 秒内没有应答，已放弃本次同步，稍后自动重试（数据不会丢失）",
        f"Sync gave up: the shared database {redact(url)} did not answer within {seconds:.0f} s; "
        "it will retry (nothing is lost)",
    )


def as_failure(exc: BaseException) -> StoreError:
    """Any exception of a sync round as a StoreError a person can read: driver errors as
    ``translate_errors`` words them (a locked file, a full disk), anything else as a failed sync that
    will retry. A round never ends its thread (issue 24: "database is locked" killed ``kiosk-sync``)."""
    if isinstance(exc, StoreError):
        return exc
    try:
        with translate_errors():
            raise exc
    except StoreError as err:
        return err
    except BaseException:  # not a driver error: worded below
        pass
    name = type(exc).__name__
    return SyncFailed(
        f"同步出错（{name}），稍后自动重试（数据不会丢失）",
        f"Sync failed ({name}); it will retry (nothing is lost)",
    )


def record_failure(local: Engine, err: StoreError) -> None:
    """Remember a sync that could not even start (e.g. a malformed shared URL) as a failed one."""
    _remember(local, utcnow(), err)


def _remember(local: Engine, started: datetime, err: StoreError | None) -> None:
    with translate_errors(str(local.url)), local.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            values: dict[str, str | None] = {LAST_ATTEMPT: started.isoformat()}
            state = read_state(conn)
            if err is None:  # a success clears the last error: --status shows none after it
                values |= {
                    LAST_SUCCESS: utcnow().isoformat(),
                    OFFLINE_SINCE: None,
                    LAST_ERROR_ZH: None,
                    LAST_ERROR_EN: None,
                }
            else:
                values |= {LAST_ERROR_ZH: err.zh, LAST_ERROR_EN: err.en}
                if OFFLINE_SINCE not in state:  # the first failure of a run of them is logged, not each retry
                    values[OFFLINE_SINCE] = started.isoformat()
                    insert_event(
                        conn, EventKind.SYNC_FAILED, how="sync", reason=type(err).__name__, detail=err.en
                    )
            write_state(conn, values)


#: the offline spell whose end was logged (a round that reached the database, then failed, logs it once)
BACK_LOGGED = "sync.back_logged"

Listener = Callable[[SyncReport, SyncStatus], None]


class SyncWorker:
    """Background sync in a daemon thread; the UI only calls ``start``, ``sync_now`` and ``stop``.

    ``on_report`` runs in the worker's thread after every round (a Textual app posts a message from it).
    """

    def __init__(
        self,
        local: Engine,
        shared_url: str,
        *,
        interval_s: float = 30.0,
        face_thumbs: bool = False,
        photos: bool = True,
        on_report: Listener | None = None,
        poll_s: float = 0.25,
        retry_s: float = 5.0,
        live: bool = True,
        clock_skew_s: float = 30.0,
        deadline_s: float | None = DEADLINE_S,
    ) -> None:
        # The options kept as attributes, one a line (as gate.Gate and way_a's screen do).
        self.local = local
        self.shared_url = shared_url
        self.interval_s = interval_s
        self.face_thumbs = face_thumbs
        self.photos = photos
        self.on_report = on_report
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.live = live
        self.clock_skew_s = clock_skew_s
        self.deadline_s = deadline_s
        self.last_report: SyncReport | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._asked = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rounds = threading.Condition()  # guards the two counts below (flush waits on it)
        self._started = 0  # rounds begun
        self._finished = 0  # rounds ended (well or not)
        self._ended = False  # the sync thread has returned (no more rounds will come)

    def start(self) -> SyncWorker:
        self._threads = [threading.Thread(target=self._run, name="kiosk-sync", daemon=True)]
        if self.live and self.interval_s > 0:
            self._threads.append(threading.Thread(target=self._listen, name="kiosk-sync-live", daemon=True))
        for t in self._threads:
            t.start()
        return self

    def sync_now(self) -> None:
        """Sync as soon as possible (the officer pressed "sync", or the kiosk just signed someone in)."""
        self._asked.set()
        self._wake.set()

    def flush(self, timeout_s: float) -> SyncReport | None:
        """Sync now and wait, at most ``timeout_s``, for a round that began after this call (so it sees
        every row recorded before it): its report, or None when none finished in time (the worker
        not running, or the round still going)."""
        with self._rounds:
            target = self._started + 1
        self.sync_now()
        with self._rounds:
            done = self._rounds.wait_for(
                lambda: self._finished >= target or self._ended, timeout=max(0.0, timeout_s)
            )
            if done and self._finished >= target:
                return self.last_report
            # the thread has ended (a URL it cannot open): its last word; else still going: None
            return self.last_report if self._ended else None

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)

    def _listen(self) -> None:
        from store.sync.live import ChangeListener

        try:
            live = ChangeListener(self.shared_url).start()
        except StoreError:
            return  # a malformed URL: _run reports it
        with live:
            while not self._stop.is_set():
                if live.wait(1.0):
                    self._asked.set()
                    self._wake.set()

    def _tell(self, report: SyncReport) -> None:
        if self.on_report is None:
            return
        try:
            st = status(self.local, clock_skew_s=self.clock_skew_s)
            self.on_report(report, st)
        except Exception:  # the local store busy, or the listener failed: the next round tells
            log.warning("sync: could not report a round", exc_info=True)

    def _local_revision(self) -> int | None:
        try:
            with self.local.connect() as conn:
                return current_revision(conn)
        except Exception:  # a busy local file: look again at the next tick
            return None

    def _run(self) -> None:
        try:
            self._rounds_loop()
        finally:
            with self._rounds:
                self._ended = True
                self._rounds.notify_all()

    def _rounds_loop(self) -> None:
        try:
            shared = self._open()  # a missing file: an error each round
        except StoreError as exc:  # a malformed URL: say so once, there is nothing to retry
            record_failure(self.local, exc)
            self.last_report = SyncReport(False, utcnow(), 0.0, error=exc)
            self._tell(self.last_report)
            return
        seen_local = self._local_revision()
        next_due = time.monotonic()  # a first round at start
        backoff_until = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                rev = self._local_revision()
                changed = rev is not None and rev != seen_local
                auto = self.interval_s > 0  # 0: only on demand
                timed = auto and now >= next_due
                if self._asked.is_set() or timed or (auto and changed and now >= backoff_until):
                    self._asked.clear()
                    seen_local = rev
                    with self._rounds:
                        self._started += 1
                    try:
                        report = self._round(shared)
                    except Exception as exc:  # the kiosk's own store busy past its timeout, or worse: retry
                        err = as_failure(exc)
                        if not isinstance(exc, StoreError):
                            log.warning("sync: a round failed", exc_info=True)
                        try:
                            record_failure(self.local, err)
                        except Exception:  # the store still busy: the next round records its own
                            log.warning("sync: could not record a failed round", exc_info=True)
                        report = SyncReport(False, utcnow(), 0.0, error=err)
                    with self._rounds:
                        self.last_report = report
                        self._finished += 1
                        self._rounds.notify_all()
                    done = time.monotonic()
                    backoff_until = 0.0 if report.ok else done + self.retry_s
                    next_due = done + (self.interval_s if report.ok else min(self.interval_s, self.retry_s))
                    self._tell(report)
                self._wake.wait(self.poll_s)
                self._wake.clear()
        finally:
            self._close(shared)

    # What a round talks to: the shared database here; the site service in store/sync/client.py.
    def _open(self) -> Any:
        return make_engine(self.shared_url, create=False)

    def _round(self, shared: Any) -> SyncReport:
        return sync_once(
            self.local,
            shared,
            face_thumbs=self.face_thumbs,
            photos=self.photos,
            clock_skew_s=self.clock_skew_s,
            deadline_s=self.deadline_s,
        )

    def _close(self, shared: Any) -> None:
        shared.dispose()
