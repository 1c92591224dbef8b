"""Live sync: LISTEN/NOTIFY wakes listeners (PostgreSQL), polling (SQLite), the background SyncWorker
carries a sign-in from one kiosk to another, and the ``kiosk sync`` / ``kiosk db roles`` commands."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from support.sync_helpers import count, make_site, morning, new_kiosk

from kiosk.cli import main
from store.db.engine import make_engine, session
from store.db.models import Attendance, Worker
from store.people import enroll
from store.reasons import Outcome
from store.rules.signin import SignInService
from store.sync.live import ChangeListener
from store.sync.rounds import SyncReport, SyncStatus, SyncWorker


def _add_employer(engine: Engine) -> None:
    with session(engine) as s:
        enroll.add_employer(session=s, name="另一家建设公司")
        s.commit()


def test_listener_wakes_on_a_commit(any_url: str) -> None:
    shared = make_engine(any_url)
    with ChangeListener(any_url, poll_s=0.05) as live:
        assert live.wait(0.2) is False  # nothing happened
        done = threading.Event()

        def write() -> None:
            _add_employer(shared)
            done.set()

        threading.Thread(target=write).start()
        assert live.wait(10.0) is True
        assert done.wait(10.0)
        assert live.wait(0.2) is False  # one commit, one wake-up
    shared.dispose()


def test_listener_survives_an_unreachable_server() -> None:
    live = ChangeListener("postgresql://postgres@127.0.0.1:1/nothing").start()
    assert live.wait(0.2) is False
    live.close()


def test_background_worker_carries_a_sign_in_to_the_other_kiosk(pg_url: str, tmp_path: Path) -> None:
    shared = make_engine(pg_url)
    site = make_site(shared, workers=2)
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    arrived, ready1, ready2 = threading.Event(), threading.Event(), threading.Event()
    reports: list[tuple[SyncReport, SyncStatus]] = []

    def on_k1(report: SyncReport, st: SyncStatus) -> None:
        if report.ok:
            ready1.set()

    def on_k2(report: SyncReport, st: SyncStatus) -> None:
        reports.append((report, st))
        if report.ok:
            ready2.set()
        if report.pulled.get("attendance"):
            arrived.set()

    w1 = SyncWorker(k1, pg_url, interval_s=60, poll_s=0.05, on_report=on_k1).start()
    w2 = SyncWorker(k2, pg_url, interval_s=60, poll_s=0.05, on_report=on_k2).start()
    try:
        assert ready1.wait(20.0) and ready2.wait(20.0)  # both have pulled the site (a first round at start)
        assert count(k1, Worker) == 2 and count(k2, Worker) == 2
        kiosk1 = uuid.uuid4()
        r = SignInService(k1).sign_in(site.workers[0], site.project, at=morning(1), kiosk_id=kiosk1)
        assert r.outcome is Outcome.SIGNED_IN
        # kiosk 1 notices its own write and pushes; the shared database NOTIFYs; kiosk 2 pulls
        assert arrived.wait(20.0), reports
        again = SignInService(k2).sign_in(site.workers[0], site.project, at=morning(2))
        assert again.outcome is Outcome.ALREADY and again.attendance_id == r.attendance_id
        assert reports[-1][1].state == "synced"
    finally:
        w1.stop()
        w2.stop()
    assert count(shared, Attendance) == 1
    shared.dispose()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sync_once_and_status(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = make_engine(sqlite_url)
    site = make_site(shared, workers=3)
    kiosk = new_kiosk(tmp_path, "k")
    local = str(kiosk.url)
    code, out, _ = _run(capsys, "sync", "--status", "--local", local)
    assert code == 0 and json.loads(out)["state"] == "local_only"
    code, out, _ = _run(capsys, "sync", "--once", "--json", "--local", local, "--shared", sqlite_url)
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["ok"] and report["pulled"]["worker"] == 3
    SignInService(kiosk).sign_in(site.workers[0], site.project, at=morning(0))
    code, out, _ = _run(capsys, "sync", "--status", "--local", local)
    st = json.loads(out)
    assert st["state"] == "synced" and st["pending"] == {
        "attendance": 1,
        "attempts": 1,
        "photos": 0,
        "departures": 0,
        "events": 0,
    }
    # the shared database is gone: exit 2, the reason in both languages, the kiosk remembers it
    gone = str(tmp_path / "no-such-dir" / "shared.db")
    code, out, err = _run(capsys, "sync", "--once", "--json", "--local", local, "--shared", gone)
    assert code == 2 and "Traceback" not in err and "文件夹" in err and "folder" in err
    code, out, _ = _run(capsys, "sync", "--status", "--local", local)
    st = json.loads(out)
    assert st["state"] == "offline" and st["last_error"] and st["pending"]["attendance"] == 1
    shared.dispose()


def test_cli_db_roles_needs_postgresql(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "db", "roles", "--db", sqlite_url)
    assert code == 2 and "PostgreSQL" in err
