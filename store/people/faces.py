"""The face detector for real-name verification (实名认证): exactly one face in a photo.

OpenCV's bundled Haar cascade (``haarcascade_frontalface_default.xml``) finds the faces; a photo is
accepted only when it holds exactly one. The accepted photo (JPEG) goes to ``FaceCheck.photo`` in the
shared database, a small thumbnail to ``Worker.face_thumb`` for the officer to compare at the gate.

It lives in the store because both the administrator's webcam capture (``kiosk/camera/face.py``) and
the worker's own upload from his phone (``store/people/self_enroll.py``) check faces with it: one detector,
one rule. Nothing here logs a face or writes it to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from store.errors import StoreError

#: the frontal-face cascade that ships with opencv-python
CASCADE = "haarcascade_frontalface_default.xml"
#: a face smaller than this (pixels) is not a face photo good enough to compare with an ID card
MIN_FACE_PX = 60
THUMB_PX = 160
JPEG_QUALITY = 90
#: a photo is looked at no larger than this (long side): the cascade is tuned to webcam-sized frames,
#: and on a large phone photo it also "finds" faces in hair and cloth (measured: 3 on one face at
#: 1 600 px, 1 at 960 px), besides costing three times the CPU
DETECT_SIDE = 960

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


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + CASCADE  # type: ignore[attr-defined]  # opencv's stubs do not declare cv2.data
    c = cv2.CascadeClassifier(path)
    if c.empty():  # pragma: no cover - a broken OpenCV install
        raise StoreError("无法加载人脸检测模型", f"Cannot load the face detector {path}")
    return c


def detect_faces(image: np.ndarray) -> list[Box]:
    """The faces in a BGR (or grey) image, largest first."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = cv2.equalizeHist(grey)
    found = _cascade().detectMultiScale(
        grey, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE_PX, MIN_FACE_PX)
    )
    boxes = [(int(x), int(y), int(w), int(h)) for x, y, w, h in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def detect_faces_in_photo(image: np.ndarray, *, max_side: int = DETECT_SIDE) -> list[Box]:
    """``detect_faces`` on a copy no larger than ``max_side``; boxes in the photo's own pixels."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return detect_faces(image)
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return [
        (round(x / scale), round(y / scale), round(bw / scale), round(bh / scale))
        for x, y, bw, bh in detect_faces(small)
    ]


def encode_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        raise StoreError("无法编码照片", "Cannot encode the photo as JPEG")
    return bytes(buf)


def thumbnail(image: np.ndarray, box: Box) -> bytes:
    """A square crop around the face, with a margin, scaled to THUMB_PX."""
    x, y, w, h = box
    m = int(max(w, h) * 0.35)
    H, W = image.shape[:2]
    crop = image[max(0, y - m) : min(H, y + h + m), max(0, x - m) : min(W, x + w + m)]
    return encode_jpeg(cv2.resize(crop, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA))


def check_face(image: np.ndarray) -> FaceCapture:
    """Accept a frame with exactly one face, or raise FaceError."""
    boxes = detect_faces(image)
    if len(boxes) != 1:
        raise FaceError(len(boxes))
    H, W = image.shape[:2]
    return FaceCapture(
        jpeg=encode_jpeg(image), thumb=thumbnail(image, boxes[0]), box=boxes[0], width=W, height=H
    )
