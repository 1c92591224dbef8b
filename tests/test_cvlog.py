"""OpenCV's own warnings do not reach the terminal while the officer screen is up (issue 20 item 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import pytest

from kiosk import cvlog
from kiosk.demo import make_demo
from kiosk.officer.app import build_app
from store.timeutil import utcnow

pytestmark = pytest.mark.timeout(60)


def open_missing_webcam() -> None:
    cv2.VideoCapture("/dev/video93", cv2.CAP_V4L2).release()  # no such device: OpenCV warns on stderr


def test_opencv_is_silent_while_a_screen_is_up_and_speaks_again_after(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    before = cv2.utils.logging.getLogLevel()
    open_missing_webcam()
    assert "WARN" in capfd.readouterr().err  # what used to be written over the title bar
    demo = make_demo(tmp_path, workers=20)

    async def run() -> None:
        app = build_app(demo.services(clock=utcnow), None)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert cv2.utils.logging.getLogLevel() == cv2.utils.logging.LOG_LEVEL_SILENT
            capfd.readouterr()
            open_missing_webcam()
            assert "WARN" not in capfd.readouterr().err

    asyncio.run(run())
    demo.engine.dispose()
    assert cv2.utils.logging.getLogLevel() == before  # back as it was when the app ended


def test_silence_and_restore_keep_the_environment() -> None:
    import os

    os.environ.pop(cvlog.ENV, None)
    s = cvlog.silence()
    assert os.environ[cvlog.ENV] == "SILENT"
    cvlog.restore(s)
    assert cvlog.ENV not in os.environ
