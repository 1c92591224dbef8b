"""The officer app on the demo store, as the tests drive it: a frozen clock (07:00 in Shanghai), the demo
world (``demo`` fixture), the app built on it, the scanner, a scripted camera, what the screen shows."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, func, select

from kiosk.camera.sources import Frame, SourceState, StateCallback
from kiosk.demo import Demo, make_demo
from kiosk.officer.app import KioskApp, build_app
from kiosk.officer.widgets.scanner import ScannerInput
from store.db.models import Attendance
from store.reasons import Role

#: 07:00 on 3 March 2026 in Shanghai
FROZEN = datetime(2026, 3, 2, 23, 0, 0, tzinfo=UTC)
#: the terminal the app tests run in (columns, rows)
SIZE = (100, 30)


def frozen() -> datetime:
    return FROZEN


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=200, clock=frozen)
    yield d
    d.engine.dispose()


def app_of(demo: Demo, camera: object = None) -> KioskApp:
    return build_app(demo.services(clock=frozen), camera)  # type: ignore[arg-type]


async def settle(app: KioskApp, pilot: object) -> None:
    """Let the workers finish and their messages land (again: a result starts the counters' worker).
    The camera's worker runs as long as its source does: not waited for here."""
    for _ in range(3):
        busy = [w for w in app.workers if w.group != "camera"]
        if busy:
            await app.workers.wait_for_complete(busy)
        await pilot.pause()  # type: ignore[attr-defined]


async def scan(app: KioskApp, pilot: object, text: str) -> None:
    """A keyboard-wedge scanner: the code lands in the focused scanner field, then Enter."""
    field = app.screen.query_one(ScannerInput)
    assert field.has_focus
    field.value = text
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(app, pilot)


def screen_text(app: KioskApp) -> str:
    """What the terminal shows, without any whitespace (so wrapped lines still match)."""
    lines = ("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())
    return re.sub(r"\s+", "", "".join(lines))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def has(app: KioskApp, *texts: str) -> bool:
    shown = screen_text(app)
    return all(squash(x) in shown for x in texts)


def attendances(demo: Demo) -> int:
    with Session(demo.engine) as s:
        return int(s.exec(select(func.count()).select_from(Attendance)).one())


def officer_code(demo: Demo, *, assigned: bool = True) -> str:
    return demo.code(demo.officer(assigned=assigned), role=Role.OFFICER)


class _Go(threading.Event):
    """The test's "go on" to a ``ScriptedCamera``: setting it first marks the camera as no longer waiting,
    so the next ``next_act()`` waits for the camera's next pause, not the one it is leaving."""

    def __init__(self, waiting: threading.Event) -> None:
        super().__init__()
        self._waiting = waiting

    def set(self) -> None:
        self._waiting.clear()
        super().set()


class ScriptedCamera:
    """A frame source test double: serves the frames of each act, waiting for the test between acts;
    ``lose()`` makes it report RECONNECTING until ``act()`` lets it go on (then CONNECTED)."""

    def __init__(self, acts: list[list[np.ndarray]], *, lose_first: bool = False) -> None:
        self.name = "scripted"
        self.state = SourceState.CONNECTING
        self.on_state: StateCallback | None = None
        self.acts = acts
        self.lose_first = lose_first
        self.waiting = threading.Event()  # set when it has served an act and waits for the next
        self.go = _Go(self.waiting)
        self.closed = threading.Event()
        self._frames: list[np.ndarray] = []
        self._index = 0

    def _set(self, state: SourceState) -> None:
        self.state = state
        if self.on_state is not None:
            self.on_state(state, str(state))

    def open(self) -> None:
        self._set(SourceState.CONNECTED)

    def _pause(self) -> bool:
        self.waiting.set()
        while not self.go.wait(0.05):
            if self.closed.is_set():
                return False
        self.go.clear()
        self.waiting.clear()
        return True

    def read(self) -> Frame | None:
        if self.lose_first:
            self.lose_first = False
            self._set(SourceState.RECONNECTING)
            if not self._pause():
                return None
            self._set(SourceState.CONNECTED)
        while not self._frames:
            if not self.acts:
                self._set(SourceState.ENDED)
                return None
            if self._index and not self._pause():
                return None
            self._frames = list(self.acts.pop(0))
        self._index += 1
        return Frame(image=self._frames.pop(0), index=self._index, source=self.name)

    def close(self) -> None:
        self.closed.set()

    def stop(self) -> None:
        self.closed.set()

    async def next_act(self) -> None:
        await asyncio.to_thread(self.waiting.wait, 20)
        assert self.waiting.is_set(), "the camera never asked for more"
