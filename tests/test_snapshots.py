"""Snapshots of the officer screen (pytest-textual-snapshot), frozen clock, at 80×24, 120×40 and 100×30:
locked, green (signed in), amber (already), red (refused), the camera lost, the help and quit dialogs
and the project picker.

Update after a deliberate change of the screen: ``.venv/bin/pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.officer_app import SIZE, ScriptedCamera, frozen, officer_code, scan
from textual.pilot import Pilot

from kiosk.demo import Demo, make_demo
from kiosk.officer.app import KioskApp, build_app
from store.people.seed import ELIGIBLE
from store.reasons import Reason

SIZES = [(80, 24), (120, 40), (100, 30)]  # in this order: the first two keep their snapshot names
DIALOG_SIZES = [(80, 24), (100, 30)]
pytestmark = pytest.mark.timeout(120)
del SIZE


# Each test file makes its own demo (its own size of site) and disposes of it: fixtures alike in shape.
@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=200, clock=frozen)
    yield d
    d.engine.dispose()


def app_of(demo: Demo, camera: Any = None) -> KioskApp:
    kiosk = demo.config.kiosk.model_copy(update={"card_s": 600.0})  # the card stays for the picture
    cfg = demo.config.model_copy(update={"kiosk": kiosk})
    return build_app(demo.services(config=cfg, clock=frozen), camera)


def signing_in(app: KioskApp, demo: Demo, *codes: str) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await scan(app, pilot, officer_code(demo))
        for code in codes:
            await scan(app, pilot, code)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_locked(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    app = app_of(demo)

    async def run_before(pilot: Pilot[None]) -> None:
        await scan(app, pilot, officer_code(demo, assigned=False))  # refused: the reason shows

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_green(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    app = app_of(demo)
    worker = demo.examples(ELIGIBLE)[0]
    assert snap_compare(app, terminal_size=size, run_before=signing_in(app, demo, demo.code(worker)))


@pytest.mark.parametrize("size", SIZES)
def test_amber(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    app = app_of(demo)
    worker = demo.examples(ELIGIBLE)[0]
    run = signing_in(app, demo, demo.code(worker, age_s=60), demo.code(worker))
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_red(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    app = app_of(demo)
    worker = demo.examples(Reason.HEALTH_CHECK_EXPIRED.value)[0]
    assert snap_compare(app, terminal_size=size, run_before=signing_in(app, demo, demo.code(worker)))


@pytest.mark.parametrize("size", SIZES)
def test_camera_lost(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    cam = ScriptedCamera([], lose_first=True)
    app = app_of(demo, cam)

    async def run_before(pilot: Pilot[None]) -> None:
        await cam.next_act()  # it reported RECONNECTING and waits
        await scan(app, pilot, officer_code(demo))  # the officer screen shows it too

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", DIALOG_SIZES)
def test_help(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    assert snap_compare(app_of(demo), terminal_size=size, press=["f1"])


@pytest.mark.parametrize("size", DIALOG_SIZES)
def test_quit(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    assert snap_compare(app_of(demo), terminal_size=size, press=["ctrl+q"])


@pytest.mark.parametrize("size", DIALOG_SIZES)
def test_project_picker(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    import uuid

    from support.officer_app import scan

    from store.reasons import Role

    app = app_of(demo)
    chief = next(o for o in demo.summary["officers"] if len(o["projects"]) == 2)

    async def run_before(pilot: Pilot[None]) -> None:
        await scan(app, pilot, demo.code(uuid.UUID(chief["id"]), role=Role.OFFICER))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", DIALOG_SIZES)
def test_signed_out(snap_compare: Any, demo: Demo, size: tuple[int, int]) -> None:
    """F7 to 出场: the badge in the header says so, and the worker who came in is signed out (green)."""
    app = app_of(demo)
    worker = demo.examples(ELIGIBLE)[0]

    async def run_before(pilot: Pilot[None]) -> None:
        await signing_in(app, demo, demo.code(worker, age_s=60))(pilot)
        await pilot.press("f7")
        assert app.gate_mode == "out" and app.gate is not None and app.gate.mode.value == "out"
        await scan(app, pilot, demo.code(worker))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
