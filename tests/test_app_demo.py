"""``kiosk demo``: the simulated queue shows a newcomer every state within a minute at --speed 1.

The demo's phones are fed through the scanner field (the same codes the simulated camera shows), so
the test is exact and quick; ``test_demo_app_runs_until_the_first_frame`` runs the real demo app
(simulated camera) briefly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.async_tests import run_async
from support.officer_app import frozen, scan

from kiosk.demo import Demo, make_demo
from kiosk.officer.widgets.result_card import ResultCard
from store.people.seed import SHARES
from store.reasons import Reason

pytestmark = pytest.mark.timeout(120)
#: at --speed 1 a phone is shown 1.5 s and the gate is empty 1 s: 24 phones a minute
PHONES_PER_MINUTE = 24


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, clock=frozen)
    yield d
    d.engine.dispose()


@run_async
async def test_the_first_minute_shows_every_state(demo: Demo) -> None:
    from kiosk.officer.app import build_app

    app = build_app(demo.services(clock=frozen), None)
    seen: set[str] = set()
    async with app.run_test(size=(100, 30)) as pilot:
        for code in itertools.islice(demo.tokens(), PHONES_PER_MINUTE):
            was_locked = app.locked
            await scan(app, pilot, code)
            if was_locked:
                seen.add("unlocked" if not app.locked else "stayed locked")
                continue
            card = app.screen.query_one(ResultCard)
            assert card.result is not None
            r = card.result
            seen.add(r.reason.value if r.reason is not None else r.outcome.value)
    expected = {
        "stayed locked",
        "unlocked",
        "signed_in",
        "already",
        Reason.CODE_EXPIRED.value,
        Reason.CODE_INVALID.value,
        Reason.WORKER_UNKNOWN.value,
        *SHARES,
    }
    assert expected <= seen, expected - seen


@run_async
async def test_demo_app_runs_until_the_first_frame(tmp_path: Path) -> None:
    from kiosk.cli.demo_cmd import demo_app
    from kiosk.officer.app import KioskApp

    app = demo_app(tmp_path, speed=20)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.camera_state != "connected":  # the store is made in the camera's worker first
            await pilot.pause(0.05)
        assert isinstance(app, KioskApp) and app.demo
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
    app.camera_released.wait(10)
    assert app.camera_released.is_set()
    app.engine.dispose()
