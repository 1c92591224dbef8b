"""Retention and purge with a moving clock: the shared database's legal periods (SQLite and PostgreSQL),
the monthly attendance kept for wages after the daily rows go, a kiosk's pushed-only purge."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from support.sync_helpers import make_site, new_kiosk
from support.waiting import wait_until

from kiosk.cli import main
from store.db.engine import make_engine, session
from store.db.models import Attendance, AttendanceMonth, AuditLog, GatePhoto, KioskEvent, SignInAttempt
from store.roster.month import load_month
from store.roster.retention import Periods, RetentionError, purge
from store.sync.rounds import sync_once
from store.timeutil import local_date, zone

pytestmark = pytest.mark.timeout(180)

#: noon in Shanghai, 1 December 2026
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


def n(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())  # type: ignore[attr-defined]


def seven_am(day: date) -> datetime:
    return datetime.combine(day, time(7, 0), tzinfo=zone(TZ)).astimezone(UTC)


def record_days(
    engine: Engine,
    workers: list[uuid.UUID],
    project: uuid.UUID,
    days_ago: list[int],
    now: datetime = NOW,
    *,
    photos: bool = True,
    events: bool = False,
) -> None:
    """Attendance, an attempt and its gate photo for each worker on each of those days."""
    today = local_date(now, TZ)
    with session(engine) as s:
        for ago in days_ago:
            day = today - timedelta(days=ago)
            for w in workers:
                a = SignInAttempt(
                    at=seven_am(day), project_id=project, work_date=day, worker_id=w, outcome="signed_in"
                )
                att = Attendance(
                    worker_id=w,
                    project_id=project,
                    work_date=day,
                    first_at=seven_am(day),
                    way="B",
                    attempt_id=a.id,
                )
                a.attendance_id = att.id
                s.add(a)
                s.add(att)
                s.flush()
                if photos:
                    s.add(GatePhoto(attempt_id=a.id, jpeg=b"\xff\xd8 synthetic", width=640, height=360))
            if events:
                s.add(KioskEvent(at=seven_am(day), kind="unlock", project_id=project))
        s.commit()


def counts(engine: Engine) -> dict[str, int]:
    return {
        "attendance": n(engine, Attendance),
        "attempts": n(engine, SignInAttempt),
        "photos": n(engine, GatePhoto),
        "months": n(engine, AttendanceMonth),
    }


def purges(engine: Engine) -> int:
    with session(engine) as s:
        return len(list(s.exec(select(AuditLog).where(AuditLog.action == "purge")).scalars()))  # type: ignore[call-overload]


def by_what(report: object) -> dict[str, int]:
    return {i.what: i.purged for i in report.items}  # type: ignore[attr-defined]


def test_shared_database_periods_with_a_moving_clock(any_url: str) -> None:
    shared = make_engine(any_url)
    try:
        site = make_site(shared, workers=3)
        record_days(shared, site.workers, site.project, [800, 740, 700, 400, 10])
        assert counts(shared) == {"attendance": 15, "attempts": 15, "photos": 15, "months": 0}

        report = purge(shared, mode="shared", now=NOW, tz=TZ, dry_run=True)  # `kiosk retention report`
        assert by_what(report) == {
            "photos": 6,
            "attempts": 6,
            "attendance": 6,
            "departures": 0,
            "events": 0,
            "months": 0,
        }
        assert counts(shared)["attendance"] == 15 and purges(shared) == 0  # nothing written
        cut = {i.what: i.before for i in report.items}
        assert cut["attendance"] == local_date(NOW, TZ) - timedelta(days=730)

        progress: list[tuple[str, int]] = []
        report = purge(
            shared, mode="shared", now=NOW, tz=TZ, batch=4, on_progress=lambda w, k: progress.append((w, k))
        )
        assert by_what(report)["attendance"] == 6
        assert counts(shared) == {"attendance": 9, "attempts": 9, "photos": 9, "months": 6}
        assert [k for w, k in progress if w == "attendance"] == [4, 2]  # in batches
        with session(shared) as s:
            audits = list(s.exec(select(AuditLog).where(AuditLog.action == "purge")).scalars())  # type: ignore[call-overload]
        assert {a.table_name for a in audits} == {"gatephoto", "signinattempt", "attendance"}
        assert all(a.detail and "before" in a.detail for a in audits)

        # wages: the month of the purged day still shows who was present (the monthly sheet)
        old_day = local_date(NOW, TZ) - timedelta(days=800)
        month = load_month(shared, site.project, old_day.year, old_day.month)
        present = {r.days.__len__() for r in month.rows if old_day.day in r.days}
        assert len([r for r in month.rows if old_day.day in r.days]) == 3 and present == {1}

        # two months later the 700-day-old day is past two years too; its month stays for wages
        later = NOW + timedelta(days=60)
        assert by_what(purge(shared, mode="shared", now=later, tz=TZ))["attendance"] == 3
        assert counts(shared)["attendance"] == 6 and counts(shared)["months"] == 9

        # a year on, months older than three years go, the rest stay
        much_later = NOW + timedelta(days=400)
        limit = local_date(much_later, TZ) - timedelta(days=1095)
        first_kept = date(limit.year, limit.month, 1)
        report = purge(shared, mode="shared", now=much_later, tz=TZ)
        with session(shared) as s:
            months = [m.month for m in s.exec(select(AttendanceMonth)).scalars()]  # type: ignore[call-overload]
        assert months and all(m >= first_kept for m in months)
        assert by_what(report)["months"] == 9  # the three old days' months are past three years
        assert counts(shared)["attendance"] == 3  # the 400-day-old day is now past two years too: rolled up
        assert len(months) == 3 and set(months) == {
            (local_date(NOW, TZ) - timedelta(days=400)).replace(day=1)
        }
    finally:
        shared.dispose()


def test_before_only_purges_less(sqlite_url: str) -> None:
    shared = make_engine(sqlite_url)
    try:
        site = make_site(shared, workers=2)
        record_days(shared, site.workers, site.project, [900, 800])
        today = local_date(NOW, TZ)
        with pytest.raises(RetentionError) as err:
            purge(shared, mode="shared", now=NOW, tz=TZ, before=today - timedelta(days=100))
        assert "保留期限" in err.value.zh and "must still be kept" in err.value.en
        report = purge(shared, mode="shared", now=NOW, tz=TZ, before=today - timedelta(days=850))
        assert by_what(report)["attendance"] == 2 and counts(shared)["attendance"] == 2
    finally:
        shared.dispose()


def test_a_kiosk_purges_only_what_it_pushed(tmp_path: Path) -> None:
    shared = new_kiosk(tmp_path, "shared")
    kiosk = new_kiosk(tmp_path, "kiosk")
    try:
        site = make_site(shared, workers=2)
        assert sync_once(kiosk, shared).ok
        record_days(kiosk, site.workers, site.project, [40, 35, 5], events=True)
        # not pushed yet: kept, however old, and counted as kept
        report = purge(kiosk, mode="kiosk", now=NOW, tz=TZ)
        assert report.total == 0
        kept = {i.what: i.kept_unpushed for i in report.items}
        assert kept == {"photos": 4, "attempts": 4, "attendance": 4, "departures": 0, "events": 2}
        assert sync_once(kiosk, shared).ok
        record_days(kiosk, site.workers[:1], site.project, [50], photos=False)  # old, recorded after the push
        report = purge(kiosk, mode="kiosk", now=NOW, tz=TZ)
        assert by_what(report) == {"photos": 4, "attempts": 4, "attendance": 4, "departures": 0, "events": 2}
        assert {i.what: i.kept_unpushed for i in report.items}["attempts"] == 1
        assert counts(kiosk)["attempts"] == 2 + 1 and n(kiosk, KioskEvent) == 1
        assert counts(shared)["attempts"] == 6 and counts(shared)["photos"] == 6  # the shared copy is whole
        # a month on, the 5-day-old rows are past 30 days too
        report = purge(kiosk, mode="kiosk", now=NOW + timedelta(days=30), tz=TZ)
        assert by_what(report)["attempts"] == 2 and counts(kiosk)["attempts"] == 1
        assert n(kiosk, KioskEvent) == 0
    finally:
        kiosk.dispose()
        shared.dispose()


def test_cli_report_and_purge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = new_kiosk(tmp_path, "shared")
    site = make_site(shared, workers=2)
    today = local_date(datetime.now(UTC), TZ)
    record_days(shared, site.workers, site.project, [1000, 3], now=datetime.now(UTC))
    shared.dispose()
    db = str(tmp_path / "shared.db")
    assert main(["retention", "report", "--db", db, "--shared"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] and {i["what"]: i["count"] for i in data["items"]}["attendance"] == 2
    assert main(["retention", "purge", "--db", db, "--shared", "--dry-run"]) == 0
    capsys.readouterr()
    assert main(["retention", "purge", "--db", db, "--shared", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert not data["dry_run"] and data["total"] == 6
    assert main(["retention", "purge", "--db", db, "--shared", "--before", str(today)]) == 2
    assert "must still be kept" in capsys.readouterr().err
    assert main(["retention", "report", "--db", db, "--shared", "--before", "2026-13-01"]) == 2
    assert Periods().wages_days == 1095


def test_sync_watch_purges_what_it_pushed(tmp_path: Path) -> None:
    """The background sync (the service) purges pushed rows past kiosk_days once a day, the first time
    right after its first good round."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    shared = new_kiosk(tmp_path, "shared")
    kiosk = new_kiosk(tmp_path, "kiosk")
    site = make_site(shared, workers=2)
    assert sync_once(kiosk, shared).ok
    record_days(kiosk, site.workers, site.project, [45, 1], now=datetime.now(UTC))
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\nlocal_url = "sqlite:///{tmp_path / "kiosk.db"}"\n'
        f'shared_url = "sqlite:///{tmp_path / "shared.db"}"\n[sync]\ninterval_s = 1\n',
        encoding="utf-8",
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "sync", "--watch", "--config", str(cfg)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []  # read as the rounds print them: stopped only after the purge's report

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(
            lambda: counts(kiosk)["attempts"] == 2 and any('"retention"' in line for line in lines),
            timeout=90,
            what="the purge and its report",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        reader.join(20)
    out = "".join(lines)
    assert counts(kiosk)["attempts"] == 2 and counts(kiosk)["photos"] == 2  # yesterday's stay
    assert counts(shared)["attempts"] == 4  # the shared database keeps everything
    assert '"retention"' in out
    kiosk.dispose()
    shared.dispose()
