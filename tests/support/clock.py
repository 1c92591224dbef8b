"""The tests' clock: real time, or — with ``KIOSK_TEST_CLOCK=HH:MM`` — the site's wall clock moved to that
time of day (Asia/Shanghai), ticking on from there, for the whole test process and every Python process
it starts.

Why: a test that takes "now" and "now minus 3 minutes" passes all day and fails when the suite happens
to run a few minutes after the site's midnight (two sign-ins on two work dates). ``./dev test`` runs at
the real time; CI (``.ci/run``) runs the suite once more at ``KIOSK_TEST_CLOCK=23:58`` and at ``00:01``, so
such a test fails every time instead of one night in a hundred. The fix for such a test is never to
depend on the hour: take the instant from ``fixed_instant()`` / the demo's frozen clock and pass it to the
store (``SignInService.sign_in(..., at=...)``, ``clock=``), or compute the window from the work date.

How: ``time-machine`` moves ``time.time()``, ``datetime.now()`` and their kin (not ``time.monotonic()``,
so timeouts, asyncio and Textual's timers run as usual) to the latest instant at or before the real
time whose Shanghai time of day is HH:MM — in the past, so the shared PostgreSQL server's clock (which
nothing can move) is ahead of the kiosk's, never behind by more than a day, as after a kiosk's clock
drifted. Child processes follow by ``KIOSK_TEST_CLOCK_SHIFT_S`` (seconds to add to the real time) and
``tests/support/clockshim/sitecustomize.py`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import re
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


def start_from_env() -> object | None:
    """Start moving this process's clock when ``KIOSK_TEST_CLOCK`` is set (conftest's pytest_configure);
    returns the traveller (``.stop()`` it at the end) or None. Exports the shift for child processes."""
    hhmm = os.environ.get(ENV, "").strip()
    if not hhmm:
        return None
    import time_machine

    hatch = time_machine.escape_hatch
    real = hatch.datetime.datetime.now(UTC) if hatch.is_travelling() else datetime.now(UTC)
    shift = os.environ.get(SHIFT_ENV)  # an xdist worker: its controller chose the clock, keep to it
    dest = real + timedelta(seconds=float(shift)) if shift else target(hhmm, real)
    traveller = time_machine.travel(dest, tick=True)
    traveller.start()
    os.environ[SHIFT_ENV] = repr((dest - real).total_seconds())
    path = os.environ.get("PYTHONPATH", "")
    if str(SHIM_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SHIM_DIR), path) if p)
    return traveller


def describe() -> str | None:
    """One line for pytest's header: what the tests' clock is."""
    hhmm = os.environ.get(ENV, "").strip()
    if not hhmm:
        return None
    now = datetime.now(UTC).astimezone(SITE_ZONE)
    return f"tests' clock: {ENV}={hhmm}, it is {now:%Y-%m-%d %H:%M:%S} in Shanghai"
