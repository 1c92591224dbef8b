"""Face capture for real-name verification (实名认证): exactly one face in the frame.

OpenCV's bundled Haar cascade (``haarcascade_frontalface_default.xml``, in ``store/people/faces.py``) finds
the faces; a frame is accepted only when it holds exactly one. The accepted photo (JPEG) goes to
``FaceCheck.photo`` in the shared database, a small thumbnail to ``Worker.face_thumb`` for the officer to compare at the gate.
The administrator then compares the face with the ID card photo and records the verification.

Frames come from a frame source (``kiosk.camera.sources.open_source``: a webcam, a stream, a video
file or a folder of images). Nothing here logs a face or writes it to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from store.errors import StoreError
from store.people.faces import (  # the detector itself lives in the store (the phone's uploads use it too)
    CASCADE,
    JPEG_QUALITY,
    MIN_FACE_PX,
    THUMB_PX,
    Box,
    FaceCapture,
    FaceError,
    check_face,
    detect_faces,
    thumbnail,
)
from store.people.faces import encode_jpeg as _jpeg

__all__ = [
    "CASCADE",
    "JPEG_QUALITY",
    "MIN_FACE_PX",
    "THUMB_PX",
    "Box",
    "FaceCapture",
    "FaceError",
    "FrameSourceLike",
    "capture_face",
    "capture_from",
    "check_face",
    "detect_faces",
    "grab_still",
    "read_image_file",
    "thumbnail",
]


class _Frame(Protocol):
    image: Any


class FrameSourceLike(Protocol):
    """What ``capture_face`` needs of a ``kiosk.camera.sources.FrameSource``."""

    def read(self) -> _Frame | None: ...


def capture_face(
    source: FrameSourceLike, *, max_frames: int = 60, cancelled: Callable[[], bool] = lambda: False
) -> FaceCapture:
    """Read frames until one holds exactly one face (at most ``max_frames``); FaceError otherwise.

    The caller opens and closes the source (a worker thread owns it)."""
    last = 0
    for _ in range(max_frames):
        if cancelled():
            break
        frame = source.read()
        if frame is None:
            break
        try:
            return check_face(frame.image)
        except FaceError as exc:
            last = exc.faces_found
    raise FaceError(last)


def capture_from(
    spec: str,
    *,
    max_frames: int = 60,
    cancelled: Callable[[], bool] = lambda: False,
    width: int = 1280,
    height: int = 720,
) -> FaceCapture:
    """Open the frame source ``spec`` (a webcam index, a stream, a video file, a folder of images),
    capture one face, close it."""
    from kiosk.camera.sources import open_source

    source = open_source(spec, width=width, height=height)
    try:
        return capture_face(source, max_frames=max_frames, cancelled=cancelled)
    finally:
        source.close()


def grab_still(spec: str, *, skip: int = 5, width: int = 1280, height: int = 720) -> bytes:
    """One frame of ``spec`` as JPEG (an ID card held to the webcam); the first few frames are skipped
    while the camera settles."""
    from kiosk.camera.sources import open_source

    source = open_source(spec, width=width, height=height)
    try:
        last = None
        for _ in range(skip + 1):
            frame = source.read()
            if frame is None:
                break
            last = frame
    finally:
        source.close()
    if last is None:
        raise StoreError(f"未能从摄像头取得画面：{spec}", f"No frame from the camera {spec}")
    return _jpeg(last.image)


def read_image_file(path: str) -> bytes:
    """An ID card image from a file, re-encoded as JPEG (any format OpenCV reads); StoreError when unreadable."""
    data = np.fromfile(path, dtype=np.uint8) if _exists(path) else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        raise StoreError(f"无法读取图片：{path}", f"Cannot read the image {path}")
    return _jpeg(image)


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).is_file()
