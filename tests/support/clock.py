"""The tests' clock: real time, or — with ``KIOSK_TEST_CLOCK=HH:MM`` — every test started at that time of
day in Shanghai (the site's zone), ticking on from there, and every Python process the test starts with it.

Why: a test that takes "now" and "now minus 3 minutes" passes all day and fails when the suite happens
to run a few minutes after the site's midnight (two sign-ins on two work dates). ``KIOSK_TEST_CLOCK=23:58``
and ``=00:01`` make such a test fail every time instead of one night in a hundred. The fix for such a
test is never to depend on the hour: take a fixed instant (``fixed_instant``, the officer app's
``frozen``) and pass it to the store (``SignInService.sign_in(..., at=...)``, ``clock=...``), or derive
every time from one work date.

How: ``time-machine`` moves ``time.time()``, ``datetime.now()`` and their kin (not ``time.monotonic()``,
so timeouts, asyncio and Textual's timers run as usual) to the latest instant at or before the real
time whose Shanghai time of day is HH:MM. Child processes follow by ``KIOSK_TEST_CLOCK_SHIFT_S`` (seconds
to add to the real time) and ``tests/support/clockshim/sitecustomize.py`` on ``PYTHONPATH``.

Not moved: a test that uses the PostgreSQL server (``pg_url``, ``pg_server``, ``any_url[postgres]``): the
server's ``now()`` is the real clock and nothing can move it, so a moved kiosk clock would only test a
drifted clock (hours behind the shared database), which tests/test_clock.py and test_doctor.py test on
purpose. Those tests run at the real time in every run.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

#: the variable a developer or CI sets: HH:MM, the site's time of day the tests' clock starts at
ENV = "KIOSK_TEST_CLOCK"
#: set by the test process for its children: seconds to add to the real clock
SHIFT_ENV = "KIOSK_TEST_CLOCK_SHIFT_S"
SITE_ZONE = ZoneInfo("Asia/Shanghai")
SHIM_DIR = Path(__file__).resolve().parent / "clockshim"

#: an instant for tests that need one fixed time: 07:00 on 3 March 2026 in Shanghai, far from midnight
FIXED = datetime(2026, 3, 2, 23, 0, 0, tzinfo=UTC)


def fixed_instant() -> datetime:
    """The fixed instant (a clock callable: pass ``fixed_instant`` where the store takes ``clock=``)."""
    return FIXED


def target(hhmm: str, real: datetime) -> datetime:
    """The latest instant at or before ``real`` whose time of day in Shanghai is ``hhmm``."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", hhmm.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"{ENV} must be HH:MM (the site's time of day, e.g. 23:58), not {hhmm!r}")
    local = real.astimezone(SITE_ZONE)
    at = local.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
    if at > local:
        at -= timedelta(days=1)
    return at.astimezone(UTC)


@contextlib.contextmanager
def moved() -> Iterator[None]:
    """Run the block on the tests' clock when ``KIOSK_TEST_CLOCK`` is set (conftest's autouse fixture does
    it for every test that does not read PostgreSQL's clock); the Python processes the block starts follow
    it. Without the variable: the real clock, nothing moved."""
    hhmm = os.environ.get(ENV, "").strip()
    if not hhmm:
        yield
        return
    import time_machine

    real = datetime.now(UTC)
    dest = target(hhmm, real)
    old = {k: os.environ.get(k) for k in (SHIFT_ENV, "PYTHONPATH")}
    os.environ[SHIFT_ENV] = repr((dest - real).total_seconds())
    path = old["PYTHONPATH"] or ""
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SHIM_DIR), path) if p)
    try:
        with time_machine.travel(dest, tick=True):
            yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def describe() -> str | None:
    """One line for pytest's header: what the tests' clock is."""
    hhmm = os.environ.get(ENV, "").strip()
    if not hhmm:
        return None
    target(hhmm, datetime.now(UTC))  # a clear error now for a malformed value
    return f"tests' clock: {ENV}={hhmm}: each test starts at {hhmm} in Shanghai (not those on PostgreSQL)"
