"""The officer's code screen (way A) driven with Pilot: the QR on screen decodes to a genuine officer
code, the countdown, renewal before expiry with an injected clock, the live list of arrivals."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import zxingcpp
from support.way_a_world import AT, World, build_world
from textual.app import App
from textual.widgets import DataTable, Label, Static

from kiosk.officer.way_a import OfficerCodeScreen, code_source_for
from store.reasons import Role
from store.rules.way_a import way_a_arrivals

pytestmark = pytest.mark.timeout(60)


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on its own event loop (no async plugin needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


async def until(pilot: Any, done: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Let the app process messages until ``done()`` (a worker reported back), at most ``limit_s``."""
    import time

    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "the screen did not report back in time"
        await pilot.pause()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Host(App[None]):
    def __init__(self, screen: OfficerCodeScreen) -> None:
        super().__init__()
        self.code_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.code_screen)


class OneShotListener:
    """Stands in for store.sync.live.ChangeListener: reports one change when the test says so."""

    def __init__(self) -> None:
        self.changed = threading.Event()
        self.closed = threading.Event()

    def start(self) -> OneShotListener:
        return self

    def wait(self, timeout: float) -> bool:
        if self.changed.wait(min(timeout, 0.05)):
            self.changed.clear()
            return True
        return False

    def close(self) -> None:
        self.closed.set()


# The way-A world on SQLite, made and disposed of per test (test_way_a.py's fixture is alike).
@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    w = build_world(sqlite_url)
    yield w
    w.engine.dispose()


def make_screen(world: World, clock: Clock, **kw: object) -> OfficerCodeScreen:
    return OfficerCodeScreen(
        project_id=world.project,
        project_name="测试项目",
        officer_name="李签到",
        code_source=code_source_for(
            world.key, officer_id=world.officer, project_id=world.project, validity_s=120
        ),
        arrivals=lambda on: way_a_arrivals(world.engine, world.project, on),
        clock=clock,
        poll_s=0,
        **kw,  # type: ignore[arg-type]
    )


def decode_qr_text(text: str) -> list[str]:
    """Rasterise the QR text as drawn (characters dark on white, a cell = 1×2 half-blocks) and decode it."""
    halves = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}
    rows = text.split("\n")
    width = max(len(r) for r in rows)
    img = np.full((2 * len(rows) + 8, width + 8), 255, dtype=np.uint8)
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            top, bottom = halves[ch]
            if top:
                img[4 + 2 * y, 4 + x] = 0
            if bottom:
                img[4 + 2 * y + 1, 4 + x] = 0
    big = np.kron(img, np.ones((6, 6), dtype=np.uint8))
    return [r.text for r in zxingcpp.read_barcodes(big)]


@sync
async def test_qr_shown_is_the_officer_code_and_counts_down(world: World) -> None:
    clock = Clock(AT)
    screen = make_screen(world, clock)
    app = Host(screen)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert screen.code is not None and screen.renewals == 1
        shown = str(screen.query_one("#qr", Static).content)
        assert decode_qr_text(shown) == [screen.code.token]  # what a phone camera would read
        ident = world.verifier().verify(screen.code.token, role=Role.OFFICER, at=AT)
        assert ident.subject == world.officer and ident.project == world.project
        countdown = screen.query_one("#countdown", Label)
        assert "有效期剩余 120 秒" in str(countdown.content)
        clock.advance(30)
        screen.tick()
        await pilot.pause()
        assert "有效期剩余 90 秒" in str(countdown.content) and screen.renewals == 1


@sync
async def test_renewed_before_it_expires(world: World) -> None:
    clock = Clock(AT)
    screen = make_screen(world, clock, renew_before_s=20)
    app = Host(screen)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert screen.code is not None
        first = screen.code.token
        clock.advance(99)  # 21 s left: not yet
        screen.tick()
        assert screen.renewals == 1 and screen.code.token == first
        clock.advance(2)  # 19 s left: a new code
        screen.tick()
        await pilot.pause()
        assert screen.renewals == 2 and screen.code.token != first
        assert screen.code.issued_at == AT + timedelta(seconds=101)
        assert decode_qr_text(str(screen.query_one("#qr", Static).content)) == [screen.code.token]
        # the old code is still good for the worker who scanned it a moment ago
        world.verifier().verify(first, role=Role.OFFICER, at=clock.now + timedelta(seconds=10))
        await pilot.press("n")  # the officer asks for a new code
        assert screen.renewals == 3


@sync
async def test_big_qr_on_a_big_terminal(world: World) -> None:
    clock = Clock(AT)
    screen = make_screen(world, clock)
    async with Host(screen).run_test(size=(160, 70)) as pilot:
        await pilot.pause()
        assert screen.code is not None
        shown = str(screen.query_one("#qr", Static).content)
        assert "██" in shown and "▀" not in shown and decode_qr_text(shown) == [screen.code.token]


@sync
async def test_arrivals_appear_live(world: World) -> None:
    clock = Clock(AT)
    listener = OneShotListener()
    world.sign()  # a worker signed in by phone before the screen opened
    screen = make_screen(world, clock, live=lambda: listener)
    app = Host(screen)
    async with app.run_test(size=(110, 40)) as pilot:
        await until(pilot, lambda: screen.loads >= 1)
        table = screen.query_one("#arrivals", DataTable)
        assert table.row_count == 1 and "张伟" in [str(c) for c in table.get_row_at(0)]
        assert "（1 人）" in str(screen.query_one("#arrivals-title", Label).content)
        listener.changed.set()  # the shared database says something changed: the list is read again
        await until(pilot, lambda: screen.loads >= 2)
        assert len(screen.arrival_rows) == 1
    assert listener.closed.wait(5)  # the listening worker ends with the app and closes its listener


@sync
async def test_code_source_failure_is_shown(world: World) -> None:
    from store.errors import StoreError

    def broken(_at: datetime) -> object:
        raise StoreError("无法读取私钥文件", "Cannot read the private key file")

    screen = make_screen(world, Clock(AT))
    screen.code_source = broken  # type: ignore[assignment]
    async with Host(screen).run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert screen.code is None
        assert "无法读取私钥文件" in str(screen.query_one("#qr", Static).content)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
@sync
async def test_the_whole_qr_and_the_countdown_show_on_small_terminals(
    world: World, size: tuple[int, int]
) -> None:
    """What the terminal draws (not what the widget holds) decodes, and the countdown is on screen."""
    clock = Clock(AT)
    screen = make_screen(world, clock)
    async with Host(screen).run_test(size=size) as pilot:
        await pilot.pause()
        assert screen.code is not None
        qr = screen.query_one("#qr", Static)
        strips = pilot.app.screen._compositor.render_strips()
        r = qr.region
        assert r.bottom <= size[1] and r.right <= size[0]
        drawn = "\n".join(
            "".join(seg.text for seg in strips[y]).ljust(size[0])[r.x : r.right] for y in range(r.y, r.bottom)
        )
        assert decode_qr_text(drawn) == [screen.code.token]
        countdown = screen.query_one("#countdown", Label)
        assert countdown.region.height > 0 and countdown.region.bottom <= size[1]
        assert "120" in "".join(
            seg.text for y in range(countdown.region.y, countdown.region.bottom) for seg in strips[y]
        )


@sync
async def test_arrivals_refused_read_is_said_and_retried(world: World) -> None:
    """The shared database refuses the read (or anything else fails): the list says so in words, keeps
    retrying, and fills once the read works again — never a silent 0."""
    from store.errors import ReadRefused

    calls = {"n": 0}
    fail = threading.Event()
    fail.set()

    def arrivals(on: date) -> list[Any]:
        calls["n"] += 1
        if fail.is_set():
            if calls["n"] % 2:
                raise ReadRefused(
                    "数据库账号无权读取 attendance", "The database login may not read attendance"
                )
            raise RuntimeError("permission denied for table attendance")
        return way_a_arrivals(world.engine, world.project, on)

    world.sign()
    screen = make_screen(world, Clock(AT))
    screen.arrivals_source = arrivals
    screen.poll_s = 0.05
    async with Host(screen).run_test(size=(110, 40)) as pilot:
        await until(pilot, lambda: calls["n"] >= 3)
        title = str(screen.query_one("#arrivals-title", Label).content)
        assert "读取签到记录失败（自动重试中）" in title
        fail.clear()
        await until(pilot, lambda: screen.loads >= 1)
        assert "（1 人）" in str(screen.query_one("#arrivals-title", Label).content)
