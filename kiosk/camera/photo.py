"""Gate photos: the frame of each attempt, kept as a downscaled JPEG (evidence against buddy-punching).

Only the sign-in service stores them (``GatePhoto``, linked to the attempt); they are never logged or
written anywhere else.
"""

from __future__ import annotations

import cv2
import numpy as np

WIDTH = 640
QUALITY = 80


def gate_photo(image: np.ndarray, *, width: int = WIDTH, quality: int = QUALITY) -> tuple[bytes, int, int]:
    """``(jpeg, width, height)`` of a frame, at most ``width`` pixels wide."""
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise ValueError("JPEG encoding failed")
    return buf.tobytes(), int(image.shape[1]), int(image.shape[0])
