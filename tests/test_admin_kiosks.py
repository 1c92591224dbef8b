"""The kiosks (F10) and refused pushes (F11) screens of the admin app (issue 24), driven with Pilot against a
real store: issue an enrollment token for ticked projects, approve a pending key, revoke one after a
question, settle one refusal and then all; every write audited with the administrator's name; snapshots at
80×24 and 100×30. Every kiosk and person is synthetic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from support.admin_pilot import settle
from support.async_tests import run_async
from support.enroll_world import ADMIN, Site
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, SelectionList, Static

from kiosk.admin.app import AdminApp, build_app
from kiosk.admin.forms import ConfirmScreen
from kiosk.admin.kiosks import KiosksScreen, ProjectsDialog, RejectionsScreen, TokenScreen, clip, reason_pair
from kiosk.config import Config
from store.db.engine import make_engine, session, write_session
from store.db.models import AuditLog, KioskEnrollment, KioskKey, PushRejection
from store.sync.keys import APPROVED, PENDING, REVOKED, register

GATE_ID = uuid.UUID("6a1f0c2e-0000-4000-8000-000000000001")
HUT_ID = uuid.UUID("9b2e1d3f-0000-4000-8000-000000000002")
SEEN = datetime(2026, 5, 31, 0, 40, tzinfo=UTC)  # 08:40 in Shanghai
REFUSED_AT = datetime(2026, 5, 30, 23, 5, tzinfo=UTC)  # 07:05 in Shanghai, the 31st


class Kiosks:
    """A site with one approved kiosk (seen this morning), one pending, and two refused pushes of the first."""

    def __init__(self, engine: Engine) -> None:
        self.site = Site(engine)
        self.engine = engine
        gate = register(engine, public_raw=bytes(range(32)), kiosk_id=GATE_ID, name="东门签到机")
        hut = register(engine, public_raw=bytes(range(1, 33)), kiosk_id=HUT_ID, name="工棚一号机")
        from store.sync.keys import approve

        approve(engine, gate.key_id, [self.site.project_id], actor="setup", at=SEEN)
        with write_session(engine) as s:
            row = s.get(KioskKey, gate.id)
            assert row is not None
            row.last_seen_at = SEEN
            s.add(row)
            for i, (table, reason) in enumerate(
                [("attendance", "not_employed"), ("signinattempt", "attendance_refused")]
            ):
                s.add(
                    PushRejection(
                        at=REFUSED_AT.replace(minute=5 + i),
                        login="key:东门签到机",
                        kiosk_id=GATE_ID,
                        table_name=table,
                        row_id=uuid.UUID(int=i + 1),
                        reason=reason,
                    )
                )
        self.gate_id, self.hut_id = gate.id, hut.id

    def key(self, key_id: uuid.UUID) -> KioskKey:
        with session(self.engine) as s:
            row = s.get(KioskKey, key_id)
            assert row is not None
            return row

    def audit(self, action: str) -> list[AuditLog]:
        with session(self.engine) as s:
            return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())

    def unsettled(self) -> int:
        with session(self.engine) as s:
            return len(s.exec(select(PushRejection).where(col(PushRejection.settled_at).is_(None))).all())


@pytest.fixture
def kiosks(engine: Engine) -> Kiosks:
    return Kiosks(engine)


def table(app: AdminApp) -> DataTable[object]:
    return app.screen.query_one("#table", DataTable)


def cells(app: AdminApp) -> list[list[str]]:
    t = table(app)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def open_mode(pilot: Pilot[None], key: str) -> None:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


async def answer_yes(pilot: Pilot[None]) -> None:
    assert isinstance(pilot.app.screen, ConfirmScreen), type(pilot.app.screen)
    pilot.app.screen.query_one("#yes", Button).press()
    await settle(pilot)


def test_clip_cuts_with_an_ellipsis_in_terminal_cells() -> None:
    assert clip("东门签到机", 20) == "东门签到机"
    assert clip("东门签到机东门签到机东门签到机", 9) == "东门签到…"
    assert clip("abcdefghij", 5) == "abcd…"


def test_every_refusal_has_both_languages_and_an_action() -> None:
    for code in (
        "not_this_kiosk",
        "project_not_approved",
        "first_at_in_future",
        "work_date_not_first_at",
        "not_employed",
        "attendance_refused",
        "no_attempt_in_batch",
        "time_far_from_push",
    ):
        zh, en = reason_pair(code)
        assert code not in zh and code not in en and "：" in zh and ":" in en
    zh, en = reason_pair("something_new")
    assert "something_new" in zh and "something_new" in en


@run_async
async def test_the_kiosks_screen_lists_keys_in_words(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_mode(pilot, "f10")
        assert isinstance(app.screen, KiosksScreen)
        rows = cells(app)
        assert rows[0] == ["东门签到机", str(GATE_ID)[:8], "已批准", "浦东某项目", "2026-05-31 08:40"]
        assert rows[1][:3] == ["工棚一号机", str(HUT_ID)[:8], "待批准"]
        assert rows[1][3] == "—" and rows[1][4] == "从未"


@run_async
async def test_approve_a_pending_kiosk_for_ticked_projects(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_mode(pilot, "f10")
        await pilot.press("down", "a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ProjectsDialog)
        dialog.query_one("#yes", Button).press()  # nothing ticked: said, not saved
        await settle(pilot)
        assert "请至少勾选一个项目" in str(dialog.query_one("#form-error", Static).render())
        dialog.query_one("#project-list", SelectionList).select_all()
        dialog.query_one("#yes", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, KiosksScreen)
        assert cells(app)[1][2:4] == ["已批准", "浦东某项目"]
    row = kiosks.key(kiosks.hut_id)
    assert row.status == APPROVED and row.approved_by == ADMIN
    assert row.projects == str(kiosks.site.project_id)
    assert [(a.actor, a.table_name, a.row_id) for a in kiosks.audit("approve")][-1] == (
        ADMIN,
        "kioskkey",
        kiosks.hut_id,
    )


@run_async
async def test_revoke_asks_first_and_is_audited(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_mode(pilot, "f10")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#no", Button).press()  # cancelled: nothing changes
        await settle(pilot)
        assert kiosks.key(kiosks.gate_id).status == APPROVED
        await pilot.press("x")
        await settle(pilot)
        await answer_yes(pilot)
        assert cells(app)[0][2] == "已吊销"
    row = kiosks.key(kiosks.gate_id)
    assert row.status == REVOKED and row.revoked_by == ADMIN
    assert [(a.actor, a.row_id) for a in kiosks.audit("revoke")] == [(ADMIN, kiosks.gate_id)]
    assert kiosks.key(kiosks.hut_id).status == PENDING


@run_async
async def test_enroll_shows_a_token_and_its_qr(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_mode(pilot, "f10")
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ProjectsDialog)
        dialog.query_one("#project-list", SelectionList).select_all()
        dialog.query_one("#yes", Button).press()
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, TokenScreen)
        assert "▀" in str(shown.query_one("#token-qr", Static).render())
        assert "kiosk kiosk register --token " + shown.token in str(
            shown.query_one("#form-note", Static).render()
        )
    with session(engine) as s:
        enr = s.exec(select(KioskEnrollment)).one()
        assert enr.created_by == ADMIN and enr.projects == str(kiosks.site.project_id)
    assert [a.table_name for a in kiosks.audit("create") if a.table_name == "kioskenrollment"]
    # the token registers a kiosk at once, for those projects
    row = register(
        engine, public_raw=bytes(range(2, 34)), kiosk_id=uuid.uuid4(), name="新机", token=shown.token
    )
    assert row.status == APPROVED


@run_async
async def test_a_small_window_says_the_qr_does_not_fit(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mode(pilot, "f10")
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsDialog)
        app.screen.query_one("#project-list", SelectionList).select_all()
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, TokenScreen)
        assert "放不下二维码" in str(app.screen.query_one("#token-qr", Static).render())


async def _settle_one_then_all(app: AdminApp, pilot: Pilot[None], kiosks: Kiosks) -> None:
    await open_mode(pilot, "f11")
    assert isinstance(app.screen, RejectionsScreen)
    rows = cells(app)
    assert [r[0] for r in rows] == ["2026-05-31 07:06", "2026-05-31 07:05"]  # newest first, site time
    assert rows[1][1:3] == ["东门签到机", "出勤"] and rows[1][3].startswith("当天该工人未受聘于此项目")
    detail = str(app.screen.query_one("#detail", Static).render())  # the chosen row's whole reason, both
    assert "其出勤已被拒绝" in detail and "Its attendance was refused" in detail
    await pilot.press("s")
    await settle(pilot)
    await answer_yes(pilot)
    assert kiosks.unsettled() == 1 and table(app).row_count == 1
    await pilot.press("f")  # settled
    await settle(pilot)
    assert ADMIN in cells(app)[0][4]
    await pilot.press("f", "A")  # all, then settle every unsettled one
    await settle(pilot)
    await answer_yes(pilot)
    assert kiosks.unsettled() == 0
    audited = kiosks.audit("settle")
    assert len(audited) == 2 and {a.actor for a in audited} == {ADMIN}


@run_async
async def test_settle_one_then_all_on_sqlite(kiosks: Kiosks, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle_one_then_all(app, pilot, kiosks)


@run_async
async def test_settle_one_then_all_on_postgres(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        kiosks = Kiosks(engine)
        app = build_app(engine, Config(), actor=ADMIN)
        async with app.run_test(size=(120, 30)) as pilot:
            await _settle_one_then_all(app, pilot, kiosks)
    finally:
        engine.dispose()


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@pytest.mark.parametrize("mode", ["f10", "f11"])
def test_snapshot_kiosks_and_rejections(
    kiosks: Kiosks, engine: Engine, snap_compare: Callable[..., bool], size: tuple[int, int], mode: str
) -> None:
    app = build_app(engine, Config(), actor=ADMIN)

    async def before(pilot: Pilot[None]) -> None:
        await open_mode(pilot, mode)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)


@run_async
async def test_a_kiosks_name_is_text_never_markup(engine: Engine) -> None:
    site = Site(engine)
    register(engine, public_raw=bytes(range(3, 35)), kiosk_id=uuid.uuid4(), name="[b]东门[/b]")
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_mode(pilot, "f10")
        assert cells(app)[0][0] == "[b]东门[/b]"
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsDialog)
        await pilot.press("space", "tab", "enter")  # space ticks the first project; OK
        await settle(pilot)
        assert isinstance(app.screen, KiosksScreen)
        assert cells(app)[0][2:4] == ["已批准", "浦东某项目"]
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "“[b]东门[/b]”" in str(app.screen.query_one("#form-title", Static).render())
    assert site.project_id is not None
