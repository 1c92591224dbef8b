"""QR decoders: a frame in, every code in it out.

``make_decoder(name)`` returns a function ``decode(image) -> list[Decoded]`` taking a BGR or grey
image. The chain it builds starts with the named reader and falls back to the others in the order
zxing-cpp → pyzbar → OpenCV ``QRCodeDetector``; when none of them finds anything it retries on
half-size, double-size (small images only), blurred, equalised and thresholded copies. The fallbacks
cost time only on frames where nothing was found; a frame with a code is read by the first reader.

One grey conversion per frame; zxing-cpp handles inverted (dark-mode) screens, rotation and
perspective itself; pyzbar cannot read inverted codes, so it is given the inverted copy too. Several
codes in one frame are all returned, without repeats. A decoder keeps per-frame state: use one per
thread.

Library errors stop here: OpenCV raises on payloads that are not UTF-8, pyzbar returns bytes (decoded
as UTF-8, else Latin-1), and any exception of a reader counts as "nothing found". A hostile or garbage
QR code never stops the loop that calls this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from store.errors import StoreError

log = logging.getLogger(__name__)

Points = tuple[tuple[int, int], ...]
DECODERS = ("zxingcpp", "pyzbar", "opencv")


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    points: Points = ()  # corners in the frame (for outlining), clockwise from top-left when known


Reader = Callable[[np.ndarray], list[Decoded]]
Decoder = Callable[[np.ndarray], list[Decoded]]


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def bytes_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# --- the readers (each takes a grey uint8 image) -------------------------------------------------


def zxingcpp_reader(*, suspects: list[Points] | None = None, quick: bool = True) -> Reader:
    """zxing-cpp, QR only, raw text (``TextMode.Plain``: control characters kept).

    ``quick``: first a pass with the global-histogram binarizer, several times faster and enough for a
    phone screen (even, high-contrast light); only when it finds nothing the full pass with the
    local-average binarizer (uneven light, glare, paper). Both look for inverted codes too. With ``suspects``, the outlines of codes the full
    pass detected but could not decode are appended there.
    """
    import zxingcpp

    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    plain = zxingcpp.TextMode.Plain
    histogram = zxingcpp.Binarizer.GlobalHistogram

    def found(barcodes: list[Any]) -> list[Decoded]:
        out = []
        for b in barcodes:
            p = b.position
            pts = tuple((int(q.x), int(q.y)) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
            if b.valid:
                out.append(Decoded(b.text, pts))
            elif suspects is not None:
                suspects.append(pts)
        return out

    def read(gray: np.ndarray) -> list[Decoded]:
        if quick and (
            out := found(zxingcpp.read_barcodes(gray, formats=formats, text_mode=plain, binarizer=histogram))
        ):
            return out
        return found(zxingcpp.read_barcodes(gray, formats=formats, text_mode=plain,
                                            return_errors=suspects is not None))

    return read


def pyzbar_reader() -> Reader:
    from pyzbar import pyzbar

    symbols = [pyzbar.ZBarSymbol.QRCODE]

    def read(gray: np.ndarray) -> list[Decoded]:
        out = []
        for r in pyzbar.decode(gray, symbols=symbols):
            out.append(Decoded(bytes_text(r.data), tuple((int(p.x), int(p.y)) for p in r.polygon)))
        return out

    def read_both(gray: np.ndarray) -> list[Decoded]:
        found = read(gray)
        return found or read(cv2.bitwise_not(gray))  # zbar reads dark-on-light only

    return read_both


def opencv_reader() -> Reader:
    detector = cv2.QRCodeDetector()

    def read(gray: np.ndarray) -> list[Decoded]:
        ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
        if not ok or points is None:
            return []
        return [
            Decoded(t, tuple((int(x), int(y)) for x, y in pts))
            for t, pts in zip(texts, points, strict=False)
            if t
        ]

    def read_both(gray: np.ndarray) -> list[Decoded]:
        return read(gray) or read(cv2.bitwise_not(gray))  # the detector wants dark on light too

    return read_both


READERS: dict[str, Callable[[], Reader]] = {
    "zxingcpp": zxingcpp_reader,
    "pyzbar": pyzbar_reader,
    "opencv": opencv_reader,
}


def _safe(name: str, reader: Reader) -> Reader:
    def read(gray: np.ndarray) -> list[Decoded]:
        try:
            return reader(gray)
        except Exception as exc:  # a library's trouble with one frame is "nothing found" (never the payload)
            log.debug("decoder %s failed on a frame: %s", name, type(exc).__name__)
            return []

    return read


# --- retries on altered copies -------------------------------------------------------------------


def _scaled(gray: np.ndarray, f: float) -> tuple[np.ndarray, float]:
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp), f


def variants(gray: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Altered copies of a frame to retry on, each with its scale against the original."""
    out = [_scaled(gray, 0.5)]
    if max(gray.shape) <= 1000:
        out.append(_scaled(gray, 2.0))
    out.append((cv2.GaussianBlur(gray, (5, 5), 0), 1.0))
    out.append((cv2.equalizeHist(gray), 1.0))
    out.append(
        (cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 51, 10), 1.0)
    )
    return out


def _rescale(found: list[Decoded], f: float) -> list[Decoded]:
    if f == 1.0:
        return found
    return [Decoded(d.text, tuple((round(x / f), round(y / f)) for x, y in d.points)) for d in found]


def _unique(found: list[Decoded]) -> list[Decoded]:
    seen: set[str] = set()
    out = []
    for d in found:
        if d.text not in seen:
            seen.add(d.text)
            out.append(d)
    return out


#: frames up to this size (longest side, pixels) get the whole chain when the first reader finds
#: nothing: photos, scanner crops, the corpus. Larger frames (live video, mostly empty) get it only
#: around codes zxing-cpp detected but could not decode, so an empty 1280×720 frame costs one read.
FULL_CHAIN_PX = 1000


def chain(
    first: Reader, others: Sequence[Reader], *, retry: Sequence[Reader] = (),
    suspects: list[Points] | None = None, full_chain_px: int = FULL_CHAIN_PX,
) -> Decoder:
    """``first``, then ``others`` in turn, then ``retry`` readers on altered copies; the first that
    finds something wins. With ``suspects`` (filled by ``first``), large frames fall back only on
    crops around them."""

    def rest(gray: np.ndarray) -> list[Decoded]:
        for r in others:
            if found := r(gray):
                return found
        for copy, f in variants(gray) if retry else ():
            for r in retry:
                if found := r(copy):
                    return _rescale(found, f)
        return []

    def decode(image: np.ndarray) -> list[Decoded]:
        gray = to_gray(image)
        if suspects is not None:
            suspects.clear()
        if found := first(gray):
            return _unique(found)
        if suspects is None or max(gray.shape[:2]) <= full_chain_px:
            return _unique(rest(gray))
        out: list[Decoded] = []
        for pts in suspects[:4]:
            x0, y0, crop = _crop(gray, pts)
            if min(crop.shape[:2]) < 21:  # nothing a code could be read from
                continue
            out += [Decoded(d.text, tuple((x + x0, y + y0) for x, y in d.points)) for d in rest(crop)]
        return _unique(out)

    return decode


def _crop(gray: np.ndarray, pts: Points, margin: float = 0.3) -> tuple[int, int, np.ndarray]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    pad = int(max(max(xs) - min(xs), max(ys) - min(ys)) * margin) + 8
    h, w = gray.shape[:2]
    x0, y0 = max(0, min(xs) - pad), max(0, min(ys) - pad)
    x1, y1 = min(w, max(xs) + pad), min(h, max(ys) + pad)
    return x0, y0, gray[y0:y1, x0:x1]


def make_decoder(name: str = "zxingcpp", *, fallback: bool = True, retries: bool = True) -> Decoder:
    """The kiosk's decoder: ``name`` first, then (``fallback``) the others in the order of
    ``DECODERS``, then (``retries``) altered copies. ``fallback=False, retries=False``: the plain reader."""
    if name not in READERS:
        raise StoreError(
            f"未知的解码器 {name!r}（可选：{'、'.join(DECODERS)}）",
            f"Unknown decoder {name!r} (one of: {', '.join(DECODERS)})",
        )
    suspects: list[Points] | None = [] if name == "zxingcpp" and (fallback or retries) else None
    first = _safe(name, zxingcpp_reader(suspects=suspects, quick=fallback or retries) if name == "zxingcpp"
                  else READERS[name]())
    others = [] if not fallback else [_safe(n, READERS[n]()) for n in DECODERS if n != name]
    retry = [first, *others[:1]] if retries else []
    return chain(first, others, retry=retry, suspects=suspects)
