"""The kiosk's own event log: written by the officer screen (driven with Pilot) and by sync, pushed with
the attempts, shown in the roster's tab and exported; never a personal value beyond the officer's id."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from support.async_tests import run_async
from support.event_log import events, kinds
from support.officer_app import FROZEN, SIZE, ScriptedCamera, app_of, frozen, officer_code, scan, settle
from support.waiting import until

from kiosk.camera.simulate import phone_frame
from kiosk.cli import main
from kiosk.demo import Demo, make_demo
from kiosk.roster.app import make_app
from store.db.engine import make_engine
from store.db.models import KioskEvent, Officer, Worker
from store.people.seed import ELIGIBLE
from store.projects import ProjectInfo
from store.reasons import Reason, Role
from store.roster.events import EventKind, list_events, project_events, record_event
from store.sync.rounds import sync_once
from store.timeutil import local_date

pytestmark = pytest.mark.timeout(120)


# Each test file makes its own demo (its own size of site) and disposes of it: fixtures alike in shape.
@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=120, clock=frozen)
    yield d
    d.engine.dispose()


def no_personal_values(engine: Engine) -> None:
    """Nothing of a worker in any column of any event: names, ids, masked numbers."""
    from sqlmodel import Session

    with Session(engine) as s:
        workers = list(s.exec(select(Worker)).scalars())  # type: ignore[call-overload]
        officer_names = {o.name for o in s.exec(select(Officer)).scalars()}  # type: ignore[call-overload]
    banned = {str(w.id) for w in workers} | {w.name for w in workers} | {w.id_number_masked for w in workers}
    banned |= officer_names
    for e in events(engine):
        for col in KioskEvent.__table__.columns:  # type: ignore[attr-defined]
            value = getattr(e, col.name)
            if value is None:
                continue
            text = str(value)
            assert not any(b and b in text for b in banned), (col.name, text)


@run_async
async def test_unlock_refusal_lock_and_quit_are_logged_with_who_and_how(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[0]))  # a worker's code: refused
        await scan(app, pilot, officer_code(demo, assigned=False))  # an officer of another project
        await scan(app, pilot, officer_code(demo))  # the project's officer
        assert app.current_mode == "officer"
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[1]))
        await pilot.press("f2")
        await settle(app, pilot)
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    rows = events(demo.engine)
    assert [e.kind for e in rows] == ["unlock_refused", "unlock_refused", "unlock", "lock", "quit"]
    wrong_role, unassigned, unlock, lock, _quit = rows
    assert (
        wrong_role.reason == Reason.CODE_WRONG_ROLE.value and wrong_role.officer_id is None
    )  # a worker: no id
    assert unassigned.reason == Reason.OFFICER_NOT_ASSIGNED.value
    assert unassigned.officer_id == demo.officer(assigned=False)
    assert (
        unlock.officer_id == demo.officer()
        and unlock.how == "scanner"
        and unlock.project_id == demo.project_id
    )
    assert lock.how == "key" and lock.officer_id == demo.officer()
    assert all(e.at == FROZEN for e in rows)  # the app's clock
    no_personal_values(demo.engine)


@run_async
async def test_idle_lock_and_project_change_are_logged(demo: Demo) -> None:
    from kiosk.config import parse_config

    chief = next(o for o in demo.summary["officers"] if len(o["projects"]) == 2)
    cfg = parse_config({"kiosk": {"lock_idle_s": 20}, "language": "zh"})  # 1 s locked it mid-test under load
    from kiosk.officer.app import build_app

    app = build_app(demo.services(config=cfg, clock=frozen), None)
    async with app.run_test(size=SIZE) as pilot:
        await scan(app, pilot, demo.code(uuid.UUID(chief["id"]), role=Role.OFFICER))
        await pilot.press("enter")  # the first project of the picker
        await settle(app, pilot)
        assert app.current_mode == "officer"
        await pilot.press("f3", "down", "enter")
        await settle(app, pilot)
        app.last_activity -= 60  # a while without scans
        app._check_idle()
        await settle(app, pilot)
        assert app.current_mode == "locked"
    assert kinds(demo.engine) == ["unlock", "project_changed", "lock"]
    change, lock = events(demo.engine)[1:]
    assert change.officer_id == uuid.UUID(chief["id"]) and "->" in (change.detail or "")
    assert lock.how == "idle"


@run_async
async def test_camera_lost_and_back_and_unlock_by_camera(demo: Demo) -> None:
    officer = phone_frame(officer_code(demo), seed=1)
    cam = ScriptedCamera([[officer, officer], [phone_frame(None, seed=3)]], lose_first=True)
    app = app_of(demo, cam)
    async with app.run_test(size=SIZE) as pilot:
        await cam.next_act()  # reconnecting
        await pilot.pause()
        cam.go.set()
        await cam.next_act()  # back, the officer's frames read
        await settle(app, pilot)
        assert app.current_mode == "officer"
        cam.go.set()
        await app.workers.wait_for_complete()  # the camera ends after the last act
        await settle(app, pilot)
    got = kinds(demo.engine)
    assert got[:3] == ["camera_lost", "camera_back", "unlock"], got
    assert events(demo.engine)[0].reason == "reconnecting"
    assert events(demo.engine)[2].how == "camera"


def test_sync_failure_is_logged_once_then_back(demo: Demo, tmp_path: Path) -> None:
    from store.db.migrate import upgrade_engine

    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no schema: every round fails
    shared_path = tmp_path / "shared.db"
    for _ in range(3):  # three failed rounds, one event
        report = sync_once(demo.engine, unmigrated)
        assert not report.ok
    assert kinds(demo.engine) == ["sync_failed"]
    shared = make_engine(f"sqlite:///{shared_path}")
    upgrade_engine(shared)
    assert sync_once(demo.engine, shared).ok
    assert kinds(demo.engine) == ["sync_failed", "sync_back"]
    assert sync_once(demo.engine, shared).ok
    assert kinds(demo.engine) == ["sync_failed", "sync_back"]
    # pushed with the attempts: the shared database holds both
    assert [e.kind for e in events(shared)] == ["sync_failed", "sync_back"]
    assert sync_once(demo.engine, shared).ok  # pushing twice changes nothing
    assert len(events(shared)) == 2
    shared.dispose()
    unmigrated.dispose()


def test_events_reach_postgresql_through_the_push(demo: Demo, pg_url: str) -> None:
    shared = make_engine(pg_url)
    try:
        record_event(
            demo.engine, EventKind.UNLOCK, officer_id=demo.officer(), project_id=demo.project_id, how="camera"
        )
        record_event(demo.engine, EventKind.CAMERA_LOST, reason="failed")
        report = sync_once(demo.engine, shared)
        assert report.ok, report.error
        assert report.pushed.get("kioskevent") == 2
        assert [e.kind for e in events(shared)] == ["unlock", "camera_lost"]
        assert sync_once(demo.engine, shared).ok
        assert len(events(shared)) == 2
    finally:
        shared.dispose()


def test_project_events_include_kiosk_events_without_a_project(demo: Demo) -> None:
    from store.sync.identity import kiosk_identity

    kid = kiosk_identity(demo.engine, name="2号门", project_id=demo.project_id)
    other = uuid.uuid4()
    record_event(demo.engine, EventKind.UNLOCK, kiosk_id=kid, project_id=demo.project_id, at=FROZEN)
    record_event(demo.engine, EventKind.SYNC_FAILED, at=FROZEN + timedelta(minutes=1))  # the store's kiosk
    record_event(demo.engine, EventKind.CAMERA_LOST, kiosk_id=other, at=FROZEN)  # another site's kiosk
    record_event(demo.engine, EventKind.QUIT, kiosk_id=kid, at=FROZEN + timedelta(days=2))  # another day
    day = local_date(FROZEN, "Asia/Shanghai")
    rows = project_events(demo.engine, demo.project_id, day, day, "Asia/Shanghai")
    assert [(r.kind, r.kiosk) for r in rows] == [("unlock", "2号门"), ("sync_failed", "2号门")]
    everything = list_events(demo.engine, since=FROZEN - timedelta(days=1), until=FROZEN + timedelta(days=3))
    assert len(everything) == 4


def _project(demo: Demo) -> ProjectInfo:
    p = demo.summary["projects"][0]
    return ProjectInfo(uuid.UUID(p["id"]), p["name"], "Asia/Shanghai")


@run_async
async def test_roster_shows_the_days_events_in_a_tab(demo: Demo) -> None:
    from textual.widgets import DataTable, TabbedContent

    from store.sync.identity import kiosk_identity

    kid = kiosk_identity(demo.engine, name="东门", project_id=demo.project_id)
    record_event(
        demo.engine, EventKind.UNLOCK, kiosk_id=kid, officer_id=demo.officer(), how="camera", at=FROZEN
    )
    record_event(
        demo.engine,
        EventKind.UNLOCK_REFUSED,
        kiosk_id=kid,
        how="scanner",
        reason=Reason.OFFICER_NOT_ASSIGNED.value,
        at=FROZEN + timedelta(minutes=1),
    )
    app = make_app(demo.engine, _project(demo), clock=frozen, live=False, poll_s=0.2)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.refreshes, what="the first refresh")
        app.query_one("#tabs", TabbedContent).active = "tab-events"
        await pilot.pause()
        table = app.query_one("#events", DataTable)
        await until(pilot, lambda: table.row_count == 2, what="the day's two events")
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[1] == "东门" and cells[2] == "解锁被拒" and Reason.OFFICER_NOT_ASSIGNED.zh in cells[4]
        assert [str(c) for c in table.get_row_at(1)][2] == "解锁"
        table.focus()  # the key goes to the app's binding, never to the search field as text
        await pilot.pause()
        await pilot.press("l")
        await until(
            pilot, lambda: [str(c) for c in table.get_row_at(0)][2] == "unlock refused", what="English"
        )
        # a new event appears at the next poll, without a new sign-in
        record_event(
            demo.engine,
            EventKind.CAMERA_LOST,
            kiosk_id=kid,
            reason="failed",
            at=FROZEN + timedelta(minutes=2),
        )
        await until(pilot, lambda: table.row_count == 3, what="the new event at the next poll")


def test_export_events_as_csv(demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_event(
        demo.engine,
        EventKind.UNLOCK,
        officer_id=demo.officer(),
        project_id=demo.project_id,
        how="camera",
        at=FROZEN,
    )
    record_event(
        demo.engine,
        EventKind.CLOCK_DRIFT,
        project_id=demo.project_id,
        how="sync",
        reason="ahead",
        detail="+312 s",
        at=FROZEN + timedelta(hours=1),
    )
    out = tmp_path / "events.csv"
    db = str(demo.engine.url.database)
    # The command spelled out as a site types it; the second call below differs in its dates only.
    day = local_date(FROZEN, "Asia/Shanghai").isoformat()
    code = main(
        [
            "export",
            "events",
            "--db",
            db,
            "--project",
            str(demo.project_id),
            "--from",
            day,
            "--to",
            day,
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    rows = list(
        csv.reader(out.open(encoding="utf-8-sig"))
    )  # a value starting with + is written '+ (formula-safe)
    assert "设备事件" in rows[0][0] and rows[1][0].startswith("数据来源：") and rows[2][2] == "事件"
    assert [r[2] for r in rows[3:]] == ["解锁", "时钟偏差"]
    assert rows[3][4] == str(demo.officer()) and rows[4][6] == "'+312 s" and "偏快" in rows[4][5]
    assert (
        main(
            [
                "export",
                "events",
                "--db",
                db,
                "--project",
                str(demo.project_id),
                "--from",
                day,
                "--to",
                "2020-01-01",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 2
    )


def test_event_details_in_the_readers_language_and_the_sites_time() -> None:
    """The kiosk stores a sync failure's English words and an "offline since <UTC>": the Chinese roster and
    export show words and a Shanghai time, never English and UTC."""
    from datetime import UTC, datetime

    from store.roster.events import EventKind, EventRow, detail_text

    def row(kind: str, reason: str | None, detail: str) -> EventRow:
        at = datetime(2026, 12, 7, 19, 20, tzinfo=UTC)
        return EventRow(uuid.uuid4(), at, kind, "1号门", None, "", "sync", reason, detail)

    back = row(EventKind.SYNC_BACK, None, "offline since 2026-12-07T19:12:11+00:00")
    assert detail_text(back, "zh", "Asia/Shanghai") == "自 2026-12-08 03:12:11 起离线"
    assert detail_text(back, "en", "Asia/Shanghai") == "offline since 2026-12-08 03:12:11"
    failed = row(EventKind.SYNC_FAILED, "DatabaseUnavailable", "Cannot reach the database postgresql://…")
    zh = detail_text(failed, "zh")
    assert "无法连接共享数据库" in zh and "Cannot" not in zh
    assert detail_text(failed, "en").startswith("Cannot reach the database")
    odd = row(EventKind.SYNC_FAILED, "SomethingNew", "Some English")
    assert "同步未完成" in detail_text(odd, "zh")
