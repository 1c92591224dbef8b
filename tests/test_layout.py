"""Snapshots of every screen and dialog at the sizes site laptops have, 80×24 and 100×30 (issue 20).

The admin's dialogs (an error beside its field, the bank card's Luhn warning), the roster (both tabs, the
evacuation list, a worker's detail), way A's officer code, and the officer screen's dialogs. Frozen
clocks and synthetic data, so each picture is the same every run.

Update after a deliberate change: ``.venv/bin/pytest tests/test_layout.py --snapshot-update``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from stdnum.cn import ric
from textual.pilot import Pilot

from kiosk.admin.app import AdminApp
from kiosk.admin.app import build_app as build_admin
from kiosk.config import Config
from store.db.engine import make_engine, write_session
from store.people.enroll import add_worker

SIZES = [(80, 24), (100, 30)]
pytestmark = pytest.mark.timeout(120)


def id_number(born: date, seq: int) -> str:
    body = f"310104{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


# --- the admin app ---------------------------------------------------------------------------------


@pytest.fixture
def admin_engine(sqlite_url: str) -> Iterator[Engine]:
    e = make_engine(sqlite_url)
    with write_session(e) as s:
        add_worker(session=s, id_number=id_number(date(1985, 6, 15), 12), name="测试工", mobile="13800000000")
    yield e
    e.dispose()


def admin_app(engine: Engine) -> AdminApp:
    app = build_admin(engine, Config(), actor="管理员甲")
    app.today = lambda: date(2026, 11, 2)  # type: ignore[method-assign]  # readiness is for a fixed day
    return app


async def settled(pilot: Pilot[Any]) -> None:
    from textual.widgets import Input

    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False  # a blinking cursor would make two pictures of the same screen
    await pilot.pause(0.2)  # let the tables measure their new rows


@pytest.mark.parametrize("size", SIZES)
def test_admin_workers(snap_compare: Any, admin_engine: Engine, size: tuple[int, int]) -> None:
    assert snap_compare(admin_app(admin_engine), terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_admin_add_worker_error(snap_compare: Any, admin_engine: Engine, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot)
        await pilot.press(*"310104199003070051", "tab", *"张三", "enter")  # a wrong check character
        await settled(pilot)

    assert snap_compare(admin_app(admin_engine), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_admin_bank_card_luhn(snap_compare: Any, admin_engine: Engine, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("b")
        await settled(pilot)
        await pilot.press("tab", *"6222020000000000001")
        await pilot.pause()

    assert snap_compare(admin_app(admin_engine), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_admin_health_form_chooses_nothing(
    snap_compare: Any, reference_engine: Engine, size: tuple[int, int]
) -> None:
    """The health-check form opens with institution, date and result empty; Save says next to each what
    is missing (one Save must never make an unfit worker eligible)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("h")
        await settled(pilot)
        pilot.app.screen.query_one("#submit").press()
        await settled(pilot)

    assert snap_compare(admin_app(reference_engine), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_admin_keys_help(snap_compare: Any, admin_engine: Engine, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await settled(pilot)

    assert snap_compare(admin_app(admin_engine), terminal_size=size, run_before=run_before)


def test_admin_help_lists_every_key(admin_engine: Engine) -> None:
    import asyncio

    from textual.widgets import Static

    async def run() -> None:
        app = admin_app(admin_engine)
        async with app.run_test(size=(100, 30)) as pilot:
            await settled(pilot)
            await pilot.press("question_mark")
            await settled(pilot)
            text = str(app.screen.query_one("#keys-body", Static).render())
            for key in (
                "/",
                "a",
                "e",
                "i",
                "f",
                "v",
                "b",
                "h",
                "m",
                "c",
                "F1",
                "F2",
                "F3",
                "F4",
                "F5",
                "F6",
                "F7",
                "Ctrl+Q",
            ):
                assert f" {key} " in text, key
            assert "Focus Next" not in text

    asyncio.run(run())


@pytest.fixture
def reference_engine(admin_engine: Engine) -> Engine:
    """A project, an employer, an officer and a health institution, with fixed ids (the lists show them)."""
    from store.db.models import Employer, HealthInstitution, Officer, Project

    with write_session(admin_engine) as s:
        s.add(
            Project(
                id=uuid.UUID(int=0x1111 << 96),
                name="测试项目一号地块",
                address="上海市浦东新区示例路1号",
                latitude=31.2304,
                longitude=121.4737,
                radius_m=150.0,
            )
        )
        s.add(
            Employer(
                id=uuid.UUID(int=0x2222 << 96),
                name="上海甲建筑劳务有限公司",
                credit_code="91310000MA1FL0000X",
            )
        )
        s.add(Officer(id=uuid.UUID(int=0x3333 << 96), name="李签到", mobile="13900000000"))
        s.add(HealthInstitution(id=uuid.UUID(int=0x4444 << 96), name="测试体检中心", district="黄浦区"))
    return admin_engine


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["f2", "f3", "f4", "f5"])
def test_admin_reference_screens(
    snap_compare: Any, reference_engine: Engine, key: str, size: tuple[int, int]
) -> None:
    """Projects, employers, officers, health institutions: the list and the footer at both sizes."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press(key)
        await settled(pilot)

    assert snap_compare(admin_app(reference_engine), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_admin_keys_scope_column(snap_compare: Any, admin_engine: Engine, size: tuple[int, int]) -> None:
    """F6: each key says which codes it may sign (a kiosk's officer-only key, the service's worker key)."""
    from datetime import UTC, datetime

    from store.db.models import IssuerKey

    with write_session(admin_engine) as s:
        at = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
        s.add(
            IssuerKey(
                id=uuid.UUID(int=0xA1),
                kid="k-gate1",
                public_key=b"\x01" * 32,
                not_before=at,
                roles="officer",
                note="1号门",
            )
        )
        s.add(
            IssuerKey(
                id=uuid.UUID(int=0xA2),
                kid="k-serve",
                public_key=b"\x02" * 32,
                not_before=at,
                roles="worker",
                note="serve",
            )
        )
        s.add(
            IssuerKey(
                id=uuid.UUID(int=0xA3), kid="k-office", public_key=b"\x03" * 32, not_before=at, note="office"
            )
        )

    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("f6")
        await settled(pilot)

    assert snap_compare(admin_app(admin_engine), terminal_size=size, run_before=run_before)


# One snapshot test a dialog, alike on purpose: each snapshot file is named after its test.
@pytest.mark.parametrize("size", SIZES)
def test_admin_project_dialog(snap_compare: Any, reference_engine: Engine, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("f2")
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot)
        await pilot.press(*"新项目", "tab", "tab", *"abc", "enter")  # a latitude that is not a number
        await settled(pilot)

    assert snap_compare(admin_app(reference_engine), terminal_size=size, run_before=run_before)


# --- way A: the officer's code -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_way_a_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    """At both sizes the QR is whole and the countdown shows (a fixed code, so the picture is fixed)."""
    from datetime import UTC, datetime, timedelta

    from textual.app import App

    from kiosk.officer.way_a import OfficerCodeScreen, ShownCode

    at = datetime(2026, 11, 2, 1, 15, tzinfo=UTC)
    token = "KC1" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 4 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:31]
    assert len(token) == 178  # as long as a real officer code naming a project (QR version 7)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(
                OfficerCodeScreen(
                    project_id=uuid.UUID(int=1),
                    project_name="测试项目一号地块",
                    officer_name="李签到",
                    code_source=lambda now: ShownCode(token, at, at + timedelta(seconds=120)),
                    arrivals=lambda on: [],
                    clock=lambda: at,
                    poll_s=0,
                )
            )

    assert snap_compare(Host(), terminal_size=size)
