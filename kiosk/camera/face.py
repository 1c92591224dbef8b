"""Face capture for real-name verification (实名认证): exactly one face in the frame.

OpenCV's bundled Haar cascade (``haarcascade_frontalface_default.xml``) finds the faces; a frame is
accepted only when it holds exactly one. The accepted photo (JPEG) goes to ``FaceCheck.photo`` in the
shared database, a small thumbnail to ``Worker.face_thumb`` for the officer to compare at the gate.
The administrator then compares the face with the ID card photo and records the verification.

Frames come from a frame source (``kiosk.camera.sources.open_source``: a webcam, a stream, a video
file or a folder of images). Nothing here logs a face or writes it to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import cv2
import numpy as np

from store.errors import StoreError

#: the frontal-face cascade that ships with opencv-python
CASCADE = "haarcascade_frontalface_default.xml"
#: a face smaller than this (pixels) is not a face photo good enough to compare with an ID card
MIN_FACE_PX = 60
THUMB_PX = 160
JPEG_QUALITY = 90

Box = tuple[int, int, int, int]


class FaceError(StoreError):
    """No face, or more than one, in the frames looked at; ``faces_found`` is the last count."""

    def __init__(self, faces_found: int) -> None:
        if faces_found == 0:
            zh, en = "画面中未检测到人脸，请正对摄像头", "No face found in the frame: face the camera"
        else:
            zh = f"画面中有{faces_found}张人脸，只能有一人"
            en = f"{faces_found} faces in the frame: only one person may be in it"
        super().__init__(zh, en)
        self.faces_found = faces_found


@dataclass(frozen=True, slots=True)
class FaceCapture:
    """An accepted face photo."""

    jpeg: bytes
    thumb: bytes
    box: Box
    width: int
    height: int
    faces_found: int = 1


class _Frame(Protocol):
    image: Any


class FrameSourceLike(Protocol):
    """What ``capture_face`` needs of a ``kiosk.camera.sources.FrameSource``."""

    def read(self) -> _Frame | None: ...


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + CASCADE  # type: ignore[attr-defined]
    c = cv2.CascadeClassifier(path)
    if c.empty():  # pragma: no cover - a broken OpenCV install
        raise StoreError("无法加载人脸检测模型", f"Cannot load the face detector {path}")
    return c


def detect_faces(image: np.ndarray) -> list[Box]:
    """The faces in a BGR (or grey) image, largest first."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = cv2.equalizeHist(grey)
    found = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE_PX, MIN_FACE_PX))
    boxes = [(int(x), int(y), int(w), int(h)) for x, y, w, h in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover
        raise StoreError("无法编码照片", "Cannot encode the photo as JPEG")
    return bytes(buf)


def thumbnail(image: np.ndarray, box: Box) -> bytes:
    """A square crop around the face, with a margin, scaled to THUMB_PX."""
    x, y, w, h = box
    m = int(max(w, h) * 0.35)
    H, W = image.shape[:2]
    crop = image[max(0, y - m) : min(H, y + h + m), max(0, x - m) : min(W, x + w + m)]
    return _jpeg(cv2.resize(crop, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA))


def check_face(image: np.ndarray) -> FaceCapture:
    """Accept a frame with exactly one face, or raise FaceError."""
    boxes = detect_faces(image)
    if len(boxes) != 1:
        raise FaceError(len(boxes))
    H, W = image.shape[:2]
    return FaceCapture(jpeg=_jpeg(image), thumb=thumbnail(image, boxes[0]), box=boxes[0], width=W, height=H)


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
    spec: str, *, max_frames: int = 60, cancelled: Callable[[], bool] = lambda: False,
    width: int = 1280, height: int = 720,
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
