"""OpenCV's own log kept off the screen while a Textual app draws it.

OpenCV writes warnings straight to the terminal's stderr (``[ WARN:0@20.7] global cap_v4l.cpp:914 open
VIDEOIO(V4L2:/dev/video0): can't open …`` every time a missing webcam is retried), over the top of
the screen. The camera's state is ours to say, in the status line; so while an app runs OpenCV's log
level is SILENT (``cv2.utils.logging``), and what it was comes back when the app ends. When OpenCV is
not imported yet the ``OPENCV_LOG_LEVEL`` environment variable does the same for its first import.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

ENV = "OPENCV_LOG_LEVEL"


@dataclass(slots=True)
class Silenced:
    level: int | None  # OpenCV's level before (None: it was not imported)
    env: str | None  # the environment variable before


def silence() -> Silenced:
    """OpenCV says nothing from now on; ``restore`` undoes it."""
    before = Silenced(None, os.environ.get(ENV))
    os.environ[ENV] = "SILENT"
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        log = cv2.utils.logging
        before.level = int(log.getLogLevel())
        log.setLogLevel(log.LOG_LEVEL_SILENT)
    return before


def restore(before: Silenced) -> None:
    if before.env is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = before.env
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        cv2.utils.logging.setLogLevel(
            before.level if before.level is not None else cv2.utils.logging.LOG_LEVEL_WARNING
        )
