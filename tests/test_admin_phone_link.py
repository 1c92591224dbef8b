"""The admin app's phone-link key (``l``) on the workers and officers screens, driven with Pilot: a
one-time link shown as a QR that binds the phone, and ``x`` revoking the person's phones."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from support.async_tests import run_async
from support.way_a_world import build_world
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled

from kiosk.admin.app import build_app
from kiosk.admin.phone import PhoneLinkScreen
from kiosk.config import Config
from store.people.phone import LinkState, activate, device, list_bindings, peek_link

SIZE = (160, 60)


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()


def _token(screen: PhoneLinkScreen) -> str:
    text = str(screen.query_one("#phone-url", Static).render())
    m = re.search(r"/a/([A-Za-z0-9_-]+)", text)
    assert m, text
    return m.group(1)


@run_async
async def test_l_on_the_workers_screen_makes_a_link_that_binds_and_x_revokes(sqlite_url: str) -> None:
    world = build_world(sqlite_url)
    engine: Engine = world.engine
    cfg = Config.model_validate({"serve": {"base_url": "https://sign.example.cn"}})
    app = build_app(engine, cfg, actor="管理员")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PhoneLinkScreen)
        assert "https://sign.example.cn/a/" in str(screen.query_one("#phone-url", Static).render())
        assert "█" in str(screen.query_one("#phone-qr", Static).render())
        token = _token(screen)
        info = peek_link(engine, token)
        assert info.state is LinkState.VALID and info.name == "张伟"
        secret, _ = activate(engine, token)
        assert device(engine, secret)[1] is not None
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert device(engine, secret)[1] is None
        assert "已撤销" in str(app.screen.query_one("#phone-bindings", Static).render())
    assert [b.revoked_by for b in list_bindings(engine, worker_id=world.worker)] == ["管理员"]


@run_async
async def test_l_on_the_officers_screen_links_the_officer(sqlite_url: str) -> None:
    world = build_world(sqlite_url)
    app = build_app(world.engine, Config(), actor="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PhoneLinkScreen)
        info = peek_link(world.engine, _token(screen))
        assert info.state is LinkState.VALID and info.kind is not None and info.kind.value == "officer"
