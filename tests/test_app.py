"""The officer screen, driven like an officer drives it: codes at the scanner or the camera, keys.

Every test builds the app with ``build_app`` on a real SQLite store filled by ``seed_demo`` (synthetic
people), a demo issuer key and a frozen clock, runs it with ``run_test`` and waits on its workers.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select
from support.async_tests import run_async
from support.officer_app import (
    FROZEN,
    SIZE,
    ScriptedCamera,
    app_of,
    attendances,
    frozen,
    has,
    officer_code,
    scan,
    screen_text,
    settle,
    squash,
)
from support.waiting import until as wait_for

from kiosk.camera.simulate import phone_frame
from kiosk.demo import Demo
from kiosk.i18n import MESSAGES, t
from kiosk.officer.app import KioskApp, build_app
from kiosk.officer.screens.dialogs import ProjectPicker
from kiosk.officer.widgets.attempts import AttemptsList
from kiosk.officer.widgets.result_card import ResultCard
from kiosk.officer.widgets.scanner import ScannerInput
from kiosk.officer.widgets.status import CameraStatus, Counters
from store.db.models import SignInAttempt
from store.people.seed import ELIGIBLE
from store.reasons import Reason, Role

pytestmark = pytest.mark.timeout(90)


def card_text(app: KioskApp) -> str:
    card = app.screen.query_one(ResultCard)
    lines = card.render_lines(card.region.reset_offset)
    # the words only: spaces and the card's frame (its side bars repeat on every wrapped line) left out
    return re.sub(r"[\s▎▊▔▁]+", "", "".join(seg.text for line in lines for seg in line))


def demo_name(demo: Demo, worker: object) -> str:
    from store.db.models import Worker

    with Session(demo.engine) as s:
        row = s.get(Worker, worker)
        assert row is not None
        return row.name


async def unlock(app: KioskApp, pilot: object, demo: Demo) -> None:
    await scan(app, pilot, officer_code(demo))
    assert app.current_mode == "officer"


# --- unlocking -------------------------------------------------------------------------------------


@run_async
async def test_starts_locked_and_unlocks_with_the_officers_code(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current_mode == "locked"
        assert has(app, t("locked"))
        await unlock(app, pilot, demo)
        project = demo.summary["projects"][0]["name"]
        assert project in screen_text(app)
        assert app.session is not None and app.session.project.id == demo.project_id


@run_async
async def test_wrong_role_and_unassigned_officers_stay_locked_with_the_reason(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[0]))  # a worker's code
        assert app.current_mode == "locked"
        assert has(app, Reason.CODE_WRONG_ROLE.zh)
        await scan(app, pilot, officer_code(demo, assigned=False))
        assert app.current_mode == "locked"
        assert has(app, Reason.OFFICER_NOT_ASSIGNED.zh)
        await scan(app, pilot, "not a code at all")
        assert app.current_mode == "locked"
        assert has(app, Reason.CODE_INVALID.zh)
    assert attendances(demo) == 0


@run_async
async def test_officer_of_several_projects_picks_one(demo: Demo) -> None:
    chief = next(o for o in demo.summary["officers"] if len(o["projects"]) == 2)
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await scan(app, pilot, demo.code(uuid.UUID(chief["id"]), role=Role.OFFICER))
        names = [p["name"] for p in demo.summary["projects"]]
        assert all(n in screen_text(app) for n in names)  # the picker lists both
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert app.current_mode == "officer"
        assert app.session is not None and app.session.project.name == sorted(names)[1]


@run_async
async def test_kiosk_outside_the_project_range_does_not_unlock(demo: Demo) -> None:
    from kiosk.config import parse_config

    cfg = parse_config({"kiosk": {"latitude": 39.9, "longitude": 116.4}})  # Beijing
    app = build_app(demo.services(config=cfg, clock=frozen), None)
    async with app.run_test(size=SIZE) as pilot:
        await scan(app, pilot, officer_code(demo))
        assert app.current_mode == "locked"
        assert has(app, Reason.KIOSK_OUTSIDE_RANGE.zh)


# --- signing in ------------------------------------------------------------------------------------


@run_async
async def test_eligible_worker_is_green_then_amber_with_one_record(demo: Demo) -> None:
    worker = demo.examples(ELIGIBLE)[0]
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        await scan(app, pilot, demo.code(worker))
        card = app.screen.query_one(ResultCard)
        assert card.kind == "ok"
        text = card_text(app)
        assert t("signed_in") in text and "***********" in text
        assert app.screen.query_one(Counters).counts.signed_in == 1
        assert attendances(demo) == 1

        await scan(app, pilot, demo.code(worker, age_s=5))  # his next code, a moment later
        assert card.kind == "already"
        assert squash(t("already", time="07:00")) in card_text(app)
        assert app.screen.query_one(Counters).counts.signed_in == 1
        assert attendances(demo) == 1
        assert len(app.screen.query_one(AttemptsList).rows) == 2


REFUSALS = [
    k
    for k in Reason
    if k.value
    in {
        "REALNAME_INCOMPLETE",
        "NO_BANK_CARD",
        "NO_HEALTH_CHECK",
        "HEALTH_CHECK_FAILED",
        "HEALTH_CHECK_EXPIRED",
        "NOT_EMPLOYED_ON_PROJECT",
        "EMPLOYMENT_NOT_CONFIRMED",
        "EMPLOYMENT_NOT_STARTED",
        "EMPLOYMENT_ENDED",
        "AGE_POLICY",
    }
]


@run_async
async def test_each_refusal_shows_its_reason_in_chinese_and_english(demo: Demo) -> None:
    app = app_of(demo)
    cases: list[tuple[str, Reason]] = [(demo.code(demo.examples(r.value)[0]), r) for r in REFUSALS]
    cases += [
        (demo.code(demo.examples(ELIGIBLE)[1], age_s=900), Reason.CODE_EXPIRED),
        (demo.code(uuid.uuid4()), Reason.WORKER_UNKNOWN),
        ("https://example.com/x", Reason.CODE_INVALID),
        (demo.code(demo.officer(), role=Role.OFFICER, age_s=1), Reason.CODE_WRONG_ROLE),
    ]
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        for n, (code, reason) in enumerate(cases, 1):
            await scan(app, pilot, code)
            card = app.screen.query_one(ResultCard)
            assert card.kind == "refused", reason
            text = card_text(app)
            if reason is Reason.CODE_EXPIRED:  # a genuine code: the card names whose it is and what to do
                name = demo_name(demo, demo.examples(ELIGIBLE)[1])
                assert squash(f"{name}的建设码已过期，请让他刷新手机上的码后重新出示") in text, text
                assert squash(f"{name}'s code has expired: ask him to refresh it") in text, text
            else:
                assert squash(reason.zh) in text and squash(reason.en) in text, reason
            assert t("refused") in text, reason
            assert app.screen.query_one(Counters).counts.refused == n
    assert attendances(demo) == 0
    with Session(demo.engine) as s:
        kept = {a.reason for a in s.exec(select(SignInAttempt))}
    assert {r.value for _, r in cases} <= kept


@run_async
async def test_wedge_scanner_types_the_code(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        code = demo.code(demo.examples(ELIGIBLE)[2])
        await pilot.press(*code, "enter")
        await settle(app, pilot)
        assert app.screen.query_one(ResultCard).kind == "ok"
        assert code not in screen_text(app)  # the field masks what the scanner types
    assert attendances(demo) == 1


@run_async
async def test_lock_key_stops_sign_ins(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        await pilot.press("f2")
        await settle(app, pilot)
        assert app.current_mode == "locked"
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[3]))
        assert app.current_mode == "locked"
    assert attendances(demo) == 0


@run_async
async def test_idle_timeout_locks(demo: Demo) -> None:
    """No scan for lock_idle_s seconds: the app's own timer locks the screen and says why."""
    # 20 s: unlocking and a scan take far less even on a loaded machine (1 s locked it mid-test there)
    kiosk = demo.config.kiosk.model_copy(update={"lock_idle_s": 20})
    app = build_app(demo.services(config=demo.config.model_copy(update={"kiosk": kiosk}), clock=frozen), None)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[4]))  # a scan keeps it open
        assert app.current_mode == "officer"
        app.last_activity -= 60  # as if the last scan were a minute ago
        # the idle check runs every 5 s here; on a loaded machine it may come late
        await wait_for(pilot, lambda: app.current_mode == "locked", what="the idle lock")
        await wait_for(pilot, lambda: has(app, t("locked_idle", "zh")), what="the idle lock's words")


@run_async
async def test_language_switch(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        assert has(app, t("locked", "zh"))
        await pilot.press("f4")
        await pilot.pause()
        assert has(app, t("locked", "en")) and not has(app, t("locked", "zh"))
        await unlock(app, pilot, demo)
        await scan(app, pilot, demo.code(demo.examples(Reason.NO_BANK_CARD.value)[0]))
        text = card_text(app)
        assert squash(Reason.NO_BANK_CARD.en) in text and Reason.NO_BANK_CARD.zh in text  # the other beneath
        await pilot.press("f4")
        await pilot.pause()
        assert has(app, t("c_on_site", "zh"))  # the counters in Chinese again (在场 first: 出场, issue 25)


@run_async
async def test_help_and_quit_confirmation(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert has(app, t("help_title"))
        await pilot.press("escape", "ctrl+q")
        await pilot.pause()
        assert has(app, t("quit_question"))
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.is_running and app.current_mode == "locked"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert has(app, t("quit_keys"))  # the dialog says which key quits
        await pilot.press("ctrl+q")  # the same key again: quits
        await pilot.pause()
    assert app.return_code == 0


@run_async
async def test_f3_for_an_officer_of_one_project_says_why(demo: Demo) -> None:
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")  # locked: unlock first
        await pilot.pause()
        assert any(t("project_locked") in str(n.message) for n in app._notifications)
        await unlock(app, pilot, demo)
        await pilot.press("f3")
        await pilot.pause()
        assert app.session is not None
        said = t("project_only_one", name=app.session.project.name)
        assert any(said == str(n.message) for n in app._notifications)
        assert app.current_mode == "officer" and not isinstance(app.screen, ProjectPicker)


def test_catalogue_has_both_languages_with_the_same_fields() -> None:
    import string

    for key, (zh, en) in MESSAGES.items():
        assert zh and en, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(s) if f} for s in (zh, en)]
        assert fields[0] == fields[1], key


# --- the camera ------------------------------------------------------------------------------------


@run_async
async def test_camera_unlocks_then_signs_in_with_the_code_outlined(demo: Demo) -> None:
    officer = phone_frame(officer_code(demo), seed=1)
    worker = phone_frame(demo.code(demo.examples(ELIGIBLE)[4]), seed=2)
    cam = ScriptedCamera([[officer, officer], [worker, worker, worker]])
    app = app_of(demo, cam)
    async with app.run_test(size=SIZE) as pilot:
        await cam.next_act()  # the officer's frames were read and decoded
        await pilot.pause()
        unlocking = [w for w in app.workers if w.group == "unlock"]
        if unlocking:  # (it may be done already)
            await app.workers.wait_for_complete(unlocking)
        await pilot.pause()
        assert app.current_mode == "officer"
        cam.go.set()
        await app.workers.wait_for_complete()  # the camera ends after the worker's frames
        await settle(app, pilot)
        assert app.screen.query_one(ResultCard).kind == "ok"
        assert attendances(demo) == 1  # three frames of one code: one attempt
        with Session(demo.engine) as s:
            assert len(list(s.exec(select(SignInAttempt)))) == 1
        assert "▀" in screen_text(app)  # the preview drew the frames
    assert cam.closed.is_set()


@run_async
async def test_camera_lost_is_shown_then_recovered(demo: Demo) -> None:
    cam = ScriptedCamera([[phone_frame(None, seed=3)]], lose_first=True)
    app = app_of(demo, cam)
    async with app.run_test(size=SIZE) as pilot:
        await cam.next_act()
        await pilot.pause()
        status = app.screen.query_one(CameraStatus)
        assert status.state == "reconnecting"
        assert has(app, t("cam_reconnecting"))
        assert app.screen.query_one(ScannerInput).has_focus  # the screen still answers
        await pilot.press("f4")
        await pilot.pause()
        assert has(app, t("cam_reconnecting", "en"))
        cam.go.set()
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert status.state in ("connected", "ended")
        assert has(app, t("cam_connected", "en")) or has(app, t("cam_ended", "en"))
    assert cam.closed.is_set()


@run_async
async def test_quitting_releases_a_camera_stuck_reconnecting(demo: Demo) -> None:
    cam = ScriptedCamera([], lose_first=True)
    app = app_of(demo, cam)
    async with app.run_test(size=SIZE) as pilot:
        await cam.next_act()
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    await asyncio.to_thread(cam.closed.wait, 5)
    assert cam.closed.is_set()


def test_frozen_clock_is_the_sites_morning() -> None:
    assert (FROZEN + timedelta(hours=8)).strftime("%H:%M") == "07:00"


@run_async
async def test_enrolled_face_shows_beside_the_live_picture(demo: Demo) -> None:
    import cv2

    from store.db.models import Worker

    worker = demo.examples(ELIGIBLE)[5]
    face = np.full((96, 80, 3), 200, np.uint8)
    cv2.circle(face, (40, 45), 30, (60, 90, 160), -1)  # a synthetic "face"
    with Session(demo.engine) as s:
        row = s.get(Worker, worker)
        assert row is not None
        row.face_thumb = cv2.imencode(".jpg", face)[1].tobytes()
        s.add(row)
        s.commit()
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        box = app.screen.query_one("#face-box")
        assert not box.display
        await scan(app, pilot, demo.code(worker))
        await wait_for(pilot, lambda: box.display and has(app, t("enrolled_face")), what="the enrolled face")
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[6]))  # no photo: the box goes
        await wait_for(pilot, lambda: not box.display, what="the face box to go")


@run_async
async def test_way_a_key_shows_the_officers_code(demo: Demo) -> None:
    from kiosk.officer.way_a import OfficerCodeScreen
    from store.codes.tokens import CodeError
    from store.reasons import Reason, Role

    app = build_app(
        demo.services(clock=frozen, issuer_key=demo.officer_key, shared=(demo.engine, str(demo.engine.url))),
        None,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(app, pilot, demo)
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, OfficerCodeScreen)
        shown = app.screen.code
        assert shown is not None
        ident = demo.verifier.verify(shown.token, role=Role.OFFICER, at=frozen())
        assert ident.kid == demo.officer_key.kid and ident.project == demo.project_id
        # the kiosk's key signs officer codes only: a worker code made with it is refused
        forged = demo.officer_key
        with pytest.raises(CodeError) as exc:
            from store.codes.tokens import issue_code

            issue_code(forged, role=Role.WORKER, subject=demo.examples(ELIGIBLE)[0], at=frozen())
        assert exc.value.reason is Reason.CODE_KEY_SCOPE
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "officer" and not isinstance(app.screen, OfficerCodeScreen)


@run_async
async def test_real_pixels_preview_with_textual_image(demo: Demo) -> None:
    """Terminals with sixel or TGP get textual-image's widget; the frames reach it as pictures."""
    from textual_image.widget import Image

    cam = ScriptedCamera([[phone_frame(None, seed=4), phone_frame(None, seed=5)]])
    app = build_app(demo.services(clock=frozen), cam, image_preview=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(Image).image is not None


@run_async
async def test_a_locked_store_is_said_and_nothing_is_lost(demo: Demo) -> None:
    """Another program holds the database: the officer is told (no green), the screen goes on."""
    import sqlite3

    db = str(demo.engine.url.database)
    app = app_of(demo)
    worker = demo.examples(ELIGIBLE)[7]
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        holder = sqlite3.connect(db, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await scan(app, pilot, demo.code(worker))  # waits out the 5 s busy timeout
            assert app.screen.query_one(ResultCard).kind == "refused"
            assert t("not_recorded") in card_text(app) and "数据库文件被其他程序占用" in card_text(app)
            assert attendances(demo) == 0
        finally:
            holder.rollback()
            holder.close()
        await scan(app, pilot, demo.code(worker, age_s=1))
        assert app.screen.query_one(ResultCard).kind == "ok"
    assert attendances(demo) == 1


@run_async
async def test_after_a_restart_the_days_attempts_are_listed(demo: Demo) -> None:
    first = app_of(demo)
    async with first.run_test(size=SIZE) as pilot:
        await unlock(first, pilot, demo)
        await scan(first, pilot, demo.code(demo.examples(ELIGIBLE)[8]))
        await scan(first, pilot, "garbage")
    again = app_of(demo)
    async with again.run_test(size=SIZE) as pilot:
        await unlock(again, pilot, demo)
        rows = list(again.screen.query_one(AttemptsList).rows)
        assert [r.outcome.value for r in rows] == ["refused", "signed_in"]
        assert rows[0].reason is Reason.CODE_INVALID and rows[1].name
        assert again.screen.query_one(Counters).counts.signed_in == 1


async def until(pilot: object, ok: object, timeout: float = 20.0) -> bool:
    """Let the app run until ``ok()`` holds (the SyncWorker is a thread of its own, not a Textual worker)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if ok():  # type: ignore[operator]
            return True
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    return bool(ok())  # type: ignore[operator]


def shared_copy(demo: Demo, folder: Path) -> str:
    """A shared database holding the demo's site (a copy of its store), as a SQLite file."""
    import sqlite3

    from sqlalchemy.engine import make_url

    target = folder / "shared.db"
    src = sqlite3.connect(str(make_url(str(demo.engine.url)).database))
    dst = sqlite3.connect(str(target))
    src.backup(dst)
    src.close()
    dst.close()
    return str(target)


def shared_attendances(url: str) -> int:
    import sqlite3

    with sqlite3.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM attendance").fetchone()[0])


@run_async
async def test_the_app_runs_the_sync_worker_and_syncs_as_soon_as_it_records(
    demo: Demo, tmp_path: Path
) -> None:
    """The officer screen's sync is store.sync.rounds.SyncWorker: a round at start, one as soon as a sign-in is
    recorded (not at the 30 s interval), F6 on demand; its reports reach the status line as messages."""
    from kiosk.wiring import sync_worker
    from store.sync.rounds import status

    url = shared_copy(demo, tmp_path)
    assert demo.config.sync.interval_s == 30
    reports: list[bool] = []
    worker = sync_worker(demo.config, demo.engine, url)
    app = build_app(demo.services(clock=frozen, sync=worker, sync_status=lambda: status(demo.engine)), None)
    async with app.run_test(size=SIZE) as pilot:
        inner = worker.on_report
        assert inner is not None

        def counted(report: object, st: object) -> None:
            reports.append(bool(getattr(report, "ok", False)))
            inner(report, st)  # type: ignore[arg-type]

        worker.on_report = counted
        assert await until(pilot, lambda: app.sync_view.kind == "ok")  # the first round, at start
        await unlock(app, pilot, demo)
        before = shared_attendances(url)
        rounds = len(reports)
        t0 = asyncio.get_running_loop().time()
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[9]))
        assert app.screen.query_one(ResultCard).kind == "ok"
        assert await until(pilot, lambda: shared_attendances(url) == before + 1, timeout=10)
        assert asyncio.get_running_loop().time() - t0 < 10  # the record woke the sync, not the 30 s timer
        assert await until(pilot, lambda: app.sync_view.kind == "ok" and app.sync_view.pending == 0)
        await wait_for(pilot, lambda: has(app, t("sync_ok", ago=t("ago_s", n=0))), what="sync ok on screen")
        assert squash(t("sync_pending", n=1)) not in screen_text(app)  # 待上传 clears right after the scan
        assert len(reports) > rounds
        rounds = len(reports)
        await pilot.press("f6")  # on demand
        assert await until(pilot, lambda: len(reports) > rounds, timeout=10)
        assert all(reports)
    assert not any(th.is_alive() for th in worker._threads)  # stopped with the app


@run_async
async def test_an_unreachable_shared_database_shows_offline_with_what_waits(
    demo: Demo, tmp_path: Path
) -> None:
    """A shared file that is not there: offline, 待上传 1 after a scan, and no empty file made."""
    from kiosk.wiring import sync_worker
    from store.sync.rounds import status

    missing = tmp_path / "gone" / "shared.db"
    missing.parent.mkdir()
    worker = sync_worker(demo.config, demo.engine, str(missing))
    app = build_app(demo.services(clock=frozen, sync=worker, sync_status=lambda: status(demo.engine)), None)
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.sync_view.kind == "offline")
        await unlock(app, pilot, demo)
        await scan(app, pilot, demo.code(demo.examples(ELIGIBLE)[9]))
        assert await until(pilot, lambda: app.sync_view.pending >= 1)
        await wait_for(
            pilot, lambda: has(app, t("sync_pending", n=app.sync_view.pending)), what="待上传 on screen"
        )
        assert squash("离线") in screen_text(app)
    assert not missing.exists()
    assert "数据库文件不存在" in (status(demo.engine).last_error("zh") or "")


@run_async
async def test_the_refused_counter_is_this_gates_and_says_so(demo: Demo) -> None:
    """The kiosk holds only its own attempts: its refused counter is labelled as this gate's."""
    app = app_of(demo)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(app, pilot, demo)
        await scan(app, pilot, "garbage")
        assert app.screen.query_one(Counters).counts.refused == 1
        assert has(app, "本门拒绝")
        await pilot.press("f4")
        await pilot.pause()
        assert has(app, "At gate ✘")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@run_async
async def test_f5_without_an_officer_key_says_why_and_how(demo: Demo, size: tuple[int, int]) -> None:
    """F5 on a kiosk with no officer key never does nothing: a notice says way A is off and how to turn it on."""
    app = build_app(demo.services(clock=frozen), None)
    assert app.issuer_key is None
    async with app.run_test(size=size) as pilot:
        await unlock(app, pilot, demo)
        await pilot.press("f5")
        await settle(app, pilot)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "方式一（出示签到员码）未开启" in said and "kiosk keys new --roles officer" in said
        assert "[codes] officer_key" in said and "kiosk setup" in said


def test_unlock_refusal_names_the_kiosks_project(demo: Demo) -> None:
    """An officer not assigned to the kiosk's project is told which project the kiosk refuses him for."""
    from store.rules.unlock import UnlockRefused, check_officer

    name = demo.summary["projects"][0]["name"]
    r = check_officer(
        demo.engine,
        demo.verifier,
        officer_code(demo, assigned=False),
        project_id=demo.project_id,
        at=frozen(),
    )
    assert isinstance(r, UnlockRefused) and r.reason is Reason.OFFICER_NOT_ASSIGNED
    assert r.message("zh") == f"{Reason.OFFICER_NOT_ASSIGNED.zh}（{name}）"
    assert r.message("en") == f"{Reason.OFFICER_NOT_ASSIGNED.en} ({name})"
