"""Waiting in tests: by condition, with a generous bound, never by a fixed sleep or a count of short pauses.

The machine the suite runs on may be loaded (CI, a CPU hog, eight of us at once): something that takes
50 ms on a quiet laptop can take seconds. So a test waits until what it expects holds, checking often,
and gives up only after ``timeout`` seconds (30 by default), saying what it waited for.

    await until(pilot, lambda: app.current_mode == "locked", what="the idle lock")   # a Textual app
    wait_until(lambda: proc.poll() is not None, what="the server to stop")             # anything else
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: seconds a test waits for something before it fails: far more than anything needs on a loaded machine
TIMEOUT_S = 30.0


async def until(
    pilot: object, ok: Callable[[], object], *, timeout: float = TIMEOUT_S, what: str = "", step: float = 0.05
) -> None:
    """Let the app run (``pilot.pause(step)``) until ``ok()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what or 'the condition'}"
        await pilot.pause(step)  # type: ignore[attr-defined]


def wait_until(
    ok: Callable[[], object], *, timeout: float = TIMEOUT_S, what: str = "", step: float = 0.02
) -> None:
    """Check ``ok()`` every ``step`` seconds until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what or 'the condition'}"
        time.sleep(step)
