"""Sync through the site service when things go wrong (issue 24, follow-ups): a round that fails in an
unexpected way is a recorded failure and the thread goes on; a revoked kiosk waiting in the long-poll is
let go at once; phone device keys travel with the pull."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from support.sync_helpers import count, make_site, new_kiosk
from support.sync_service import Service, start_service

from store.db.models import Attendance, PushRejection, Worker
from store.reasons import Outcome
from store.rules.signin import SignInService
from store.sync import push as push_module
from store.sync.client import ServiceRefused, ServiceSyncWorker, SyncClient, sync_via
from store.sync.keys import approve, revoke
from store.sync.rounds import SyncReport, SyncStatus
from store.sync.state import status, write_state
from store.timeutil import utcnow

BOUND_S = 120.0


@pytest.fixture
def svc(sqlite_url: str, tmp_path: Path) -> Iterator[Service]:
    s = start_service(sqlite_url, tmp_path)
    yield s
    s.stop()


def _until(cond: Callable[[], bool], bound_s: float = BOUND_S) -> None:
    until = time.monotonic() + bound_s
    while not cond():
        assert time.monotonic() < until, "the condition did not hold in time"
        time.sleep(0.05)


def test_a_locked_store_in_a_push_is_a_failed_round_and_the_thread_goes_on(
    svc: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(svc.engine, workers=2)
    client, kid = svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")
    real = write_state
    fails = {"left": 1}

    def locked_once(conn, values):  # type: ignore[no-untyped-def]
        if fails["left"]:
            fails["left"] -= 1
            raise OperationalError("UPDATE syncstate", {}, sqlite3.OperationalError("database is locked"))
        return real(conn, values)

    monkeypatch.setattr(push_module, "write_state", locked_once)
    reports: list[SyncReport] = []
    lock = threading.Lock()

    def on_report(r: SyncReport, _st: SyncStatus) -> None:
        with lock:
            reports.append(r)

    worker = ServiceSyncWorker(local, client, interval_s=3600, retry_s=0.2, on_report=on_report, live=False)
    worker.start()
    try:
        _until(
            lambda: count(local, Worker) == 2 and bool(reports) and reports[-1].ok
        )  # a first round: a pull
        got = SignInService(local).sign_in(
            site.workers[0], site.project, at=utcnow() - timedelta(minutes=5), kiosk_id=kid
        )
        assert got.outcome is Outcome.SIGNED_IN, got.reason
        worker.sync_now()
        _until(lambda: any(not r.ok for r in reports))
        failed = next(r for r in reports if not r.ok)
        assert failed.error is not None and "locked" in failed.error.en
        # the thread lives on, retries, and the retry pushes what the failed round could not finish
        _until(lambda: reports[-1].ok and fails["left"] == 0 and status(local).last_error_en is None)
        assert all(t.is_alive() for t in worker._threads)
        with svc.engine.connect() as conn:
            refused = [tuple(r) for r in conn.execute(select(PushRejection.__table__))]  # type: ignore[attr-defined]
            assert conn.execute(select(func.count()).select_from(Attendance)).scalar_one() == 1, refused
    finally:
        worker.stop()


def test_a_kiosk_revoked_while_it_waits_is_refused_at_once_and_a_rescoped_one_woken(
    svc: Service, tmp_path: Path
) -> None:
    site = make_site(svc.engine, workers=1)
    other = make_site(svc.engine, workers=1, first=100, name="另一项目")
    c1, id1 = svc.kiosk(tmp_path, "k1", [site.project])
    c2, id2 = svc.kiosk(tmp_path, "k2", [site.project])
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    for k, c in ((k1, c1), (k2, c2)):
        assert sync_via(k, c).ok
    high = 1 << 40  # above everything: only the key can end these waits before their 30 s
    got: dict[str, object] = {}

    def wait(name: str, c: SyncClient) -> None:
        try:
            got[name] = c.wait(high, 30.0)
        except ServiceRefused as exc:
            got[name] = exc.code

    threads = [threading.Thread(target=wait, args=(n, c)) for n, c in (("k1", c1), ("k2", c2))]
    for t in threads:
        t.start()
    hub = svc.server.config.app.state  # type: ignore[union-attr]
    _until(lambda: getattr(hub, "sync_hub", None) is not None and len(hub.sync_hub._waiters) == 2)
    revoke(svc.engine, str(id1))
    approve(svc.engine, str(id2), [site.project, other.project])
    for t in threads:
        t.join(60)
    # both ended by the key, not by their 30 s: k1 refused, k2 told to pull (its new project)
    assert got == {"k1": "revoked", "k2": True}
    with pytest.raises(ServiceRefused):
        c1.me()
    assert sync_via(k2, c2).ok
    assert count(k2, Worker) == 2
