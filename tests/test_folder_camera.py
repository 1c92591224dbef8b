"""A folder of PNGs as the camera (issue 20 item 13): the officer's code first, then three workers' codes.

Before the fix none of the three was signed in: a folder plays as fast as it can be read, and while the
unlock was being checked (in its own thread) the camera loop went on reading — the workers' frames were
decoded as locked frames (unlock attempts by a worker's code) and gone when the gate opened. Now the
camera waits for the unlock's answer before it reads the next frame.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from support.async_tests import run_async
from support.officer_app import frozen, officer_code

from kiosk.camera.sources import FolderSource
from kiosk.demo import Demo, make_demo
from kiosk.officer.app import build_app
from kiosk.qr_terminal import save_png
from store.db.models import Attendance
from store.people.seed import ELIGIBLE

pytestmark = pytest.mark.timeout(90)


# Each test file makes its own demo (its own size of site) and disposes of it: fixtures alike in shape.
@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=80, clock=frozen)
    yield d
    d.engine.dispose()


def signed_in(demo: Demo) -> int:
    with Session(demo.engine) as s:
        return int(s.exec(select(func.count()).select_from(Attendance)).one())


@run_async
async def test_the_codes_right_after_the_officers_are_signed_in(demo: Demo, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    save_png(officer_code(demo), folder / "00-officer.png", scale=6)
    workers = demo.examples(ELIGIBLE)[:3]
    for i, w in enumerate(workers, 1):
        save_png(demo.code(w), folder / f"{i:02d}-worker.png", scale=6)
    app = build_app(demo.services(clock=frozen), FolderSource(folder))
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 30
        while signed_in(demo) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            await pilot.pause()
        assert app.current_mode == "officer"
        assert signed_in(demo) == 3
