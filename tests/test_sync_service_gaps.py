"""Sync through the site service when things go wrong (issue 24, follow-ups): a round that fails in an
unexpected way is a recorded failure and the thread goes on; a revoked kiosk waiting in the long-poll is
let go at once; phone device keys travel with the pull."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from support.sync_helpers import count, make_site, new_kiosk
from support.sync_service import Service, start_service

from store.codes.devices import raw_point, register_device_key
from store.codes.tokens import CodeError, TrustList, Verifier, issue_device_code
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.models import Attendance, DeviceKey, PushRejection, Worker
from store.people.phone import activate, create_link, revoke_binding
from store.reasons import Outcome, Reason, Role
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


@pytest.fixture
def any_svc(any_url: str, tmp_path: Path) -> Iterator[Service]:
    e = make_engine(any_url)
    upgrade_engine(e)
    e.dispose()
    s = start_service(any_url, tmp_path)
    yield s
    s.stop()


def _synced_until(local: Engine, client: SyncClient, cond: Callable[[], bool]) -> None:
    """Sync until ``cond`` holds (on PostgreSQL a row is pulled once every older transaction ended)."""
    until = time.monotonic() + BOUND_S
    while True:
        report = sync_via(local, client)
        assert report.ok, report.error and report.error.en
        if cond():
            return
        assert time.monotonic() < until, "the kiosk did not get the rows in time"
        time.sleep(0.2)


def _phone(engine: Engine, worker: uuid.UUID) -> tuple[ec.EllipticCurvePrivateKey, uuid.UUID]:
    key = ec.generate_private_key(ec.SECP256R1())
    _, dev = activate(engine, create_link(engine, worker_id=worker).token)
    register_device_key(
        engine, binding_id=dev.binding_id, worker_id=worker, public_raw=raw_point(key.public_key())
    )
    return key, dev.binding_id


def test_phone_keys_of_the_kiosks_workers_come_with_the_pull_and_their_revocation_too(
    any_svc: Service, tmp_path: Path
) -> None:
    svc = any_svc
    site = make_site(svc.engine, workers=2)
    other = make_site(svc.engine, workers=1, first=100, name="另一项目")
    mine, _binding = _phone(svc.engine, site.workers[0])
    _phone(svc.engine, other.workers[0])  # another project's phone: never reaches this kiosk
    client, _ = svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")
    _synced_until(local, client, lambda: count(local, DeviceKey) == 1)
    assert count(local, DeviceKey, worker_id=other.workers[0]) == 0
    now = utcnow()
    token = issue_device_code(mine, subject=site.workers[0], at=now)
    who = Verifier(TrustList.from_engine(local)).verify(token, role=Role.WORKER, at=now)
    assert who.device and who.subject == site.workers[0]
    # the phone revoked in the office: after the next sync the kiosk refuses its codes
    revoke_binding(svc.engine, _binding)

    def refused() -> bool:
        try:
            Verifier(TrustList.from_engine(local)).verify(token, role=Role.WORKER, at=now)
        except CodeError as exc:
            assert exc.reason is Reason.CODE_KEY_REVOKED
            return True
        return False

    _synced_until(local, client, refused)
