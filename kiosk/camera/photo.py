"""Gate photos: the frame of each attempt, kept as a downscaled JPEG (evidence against buddy-punching),
with every code in it painted over.

A personal code is a live credential for its two minutes: a photo that still shows it could sign its
holder in elsewhere, and photos travel to the shared database. So the area of each code the decoder
found (its corners, grown by ``MARGIN`` on every side: the quiet zone and a little more) is filled with
flat grey before the picture is stored, and the stored JPEG is read once more with zxing-cpp: if any
code can still be read (one the decoder had no corners for, a second phone half in view), the photo
is not kept at all — the attempt is recorded without it.

Only the sign-in service stores them (``GatePhoto``, linked to the attempt); they are never logged or
written anywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from kiosk.camera.decoders import Points, Reader, zxingcpp_reader

WIDTH = 640
QUALITY = 80
#: the painted area reaches this fraction of the code's size beyond its corners, on every side
MARGIN = 0.3
GREY = 128

_check: Reader | None = None


def _reader() -> Reader:
    global _check
    if _check is None:
        _check = zxingcpp_reader(quick=False)  # the thorough pass, both binarizers' worth of effort
    return _check


def hide_codes(image: np.ndarray, codes: Sequence[Points], *, margin: float = MARGIN) -> np.ndarray:
    """A copy of ``image`` with each code's area (its corners, grown by ``margin``) filled flat grey."""
    out = image.copy()
    for pts in codes:
        if len(pts) < 3:
            continue
        p = np.array(pts, dtype=np.float64)
        centre = p.mean(axis=0)
        grown = centre + (p - centre) * (1.0 + 2.0 * margin)
        hull = cv2.convexHull(np.round(grown).astype(np.int32))
        cv2.fillConvexPoly(out, hull, (GREY,) * (out.shape[2] if out.ndim == 3 else 1))
    return out


def gate_photo(
    image: np.ndarray,
    *,
    hide: Sequence[Points] = (),
    width: int = WIDTH,
    quality: int = QUALITY,
    check: bool = True,
) -> tuple[bytes, int, int] | None:
    """``(jpeg, width, height)`` of a frame, at most ``width`` pixels wide, the codes at ``hide`` painted
    over; None when a code can still be read from it (``check``), so no photo carries a live code."""
    if hide:
        image = hide_codes(image, hide)
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise ValueError("JPEG encoding failed")
    if check:
        stored = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        if stored is None or _reader()(stored):  # (None: OpenCV cannot read its own JPEG back)
            return None
    return buf.tobytes(), int(image.shape[1]), int(image.shape[0])
