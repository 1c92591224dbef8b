"""Loaded by every Python process the tests start while ``KIOSK_TEST_CLOCK`` is set (tests/support/clock.py
puts this folder on ``PYTHONPATH``): moves the child's clock by the test process's shift, so a code issued
by the test and checked by the child (a server, ``kiosk sync``) are judged on one clock."""

import os

_shift = os.environ.get("KIOSK_TEST_CLOCK_SHIFT_S")
if _shift:
    try:
        import time

        import time_machine
    except ImportError:  # not the project's environment (a tool the tests start): leave its clock alone
        pass
    else:
        time_machine.travel(time.time() + float(_shift), tick=True).start()
