"""QR decoders: a frame in, every code in it out.

``make_decoder(name)`` returns a ``ChainDecoder``, called as ``decode(image) -> list[Decoded]`` on a
BGR or grey image. It starts with the named reader and falls back to the others in the order
zxing-cpp → pyzbar → OpenCV ``QRCodeDetector``; when none of them finds anything it retries on
altered copies: half-size, double-size (small images only), blurred, equalised and thresholded, and
the copies that undo what a laptop webcam does to a phone screen (``webcam_copies``: smoothing and a
median that erase the phone's pixel grid and sensor noise, CLAHE for low light, unsharp masking and
Wiener deconvolution for defocus and motion blur), and OpenCV's reader of curved codes — within a time
budget per frame (``RETRY_BUDGET_MS``). The fallbacks cost time only on frames where nothing was
read; a frame with a code is read by the first reader. ``quick`` and ``retry`` are the two halves,
for callers that run them apart (the officer screen: see ``ChainDecoder``).

One grey conversion per frame; zxing-cpp handles inverted (dark-mode) screens, rotation and
perspective itself; pyzbar cannot read inverted codes, so it is given the inverted copy too. Several
codes in one frame are all returned, without repeats. A decoder keeps per-frame state: use one per
thread. Only QR codes proper (models 1 and 2) are read: zxing-cpp's Micro QR reads noise as short
numbers.

Library errors stop here: OpenCV raises on payloads that are not UTF-8, pyzbar returns bytes (decoded
as UTF-8, else Latin-1), and any exception of a reader counts as "nothing found". A hostile or garbage
QR code never stops the loop that calls this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kiosk.camera.blur import (
    busiest_window,
    coherence,
    disc_kernel,
    edge_share,
    line_kernel,
    motion_angle,
    wiener,
)
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

    # the QR code itself (models 1 and 2): zxing-cpp 3's ``QRCode`` is the whole family, Micro QR included,
    # whose smallest kind (M1) only detects errors — blur and noise then read as a short number (a
    # misread on the hard set, motion kind); no phone shows a Micro QR code
    f = zxingcpp.BarcodeFormat
    formats = (
        zxingcpp.BarcodeFormats([f.QRCodeModel1, f.QRCodeModel2])
        if hasattr(f, "QRCodeModel2")
        else zxingcpp.BarcodeFormats(f.QRCode)
    )
    plain = zxingcpp.TextMode.Plain
    histogram = zxingcpp.Binarizer.GlobalHistogram

    def found(barcodes: list[Any]) -> list[Decoded]:
        out = []
        for b in barcodes:
            p = b.position
            pts = tuple(
                (int(q.x), int(q.y)) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            )
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
        return found(
            zxingcpp.read_barcodes(gray, formats=formats, text_mode=plain, return_errors=suspects is not None)
        )

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


def opencv_curved_reader() -> Reader:
    """OpenCV's reader for a code on a curved surface (a label round a helmet, a crumpled shirt):
    ``detectAndDecodeCurved``. Slow (~10–50 ms), the chain's very last try, on photos only."""
    detector = cv2.QRCodeDetector()

    def read(gray: np.ndarray) -> list[Decoded]:
        text, points, _ = detector.detectAndDecodeCurved(gray)
        if not text or points is None:
            return []
        return [Decoded(text, tuple((int(x), int(y)) for x, y in points.reshape(-1, 2)))]

    return read


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
    """Altered copies of a frame to retry on, each with its scale against the original (photos, the
    corpus: ``chain`` tries these before the webcam copies below)."""
    out = [_scaled(gray, 0.5)]
    if max(gray.shape) <= 1000:
        out.append(_scaled(gray, 2.0))
    out.append((cv2.GaussianBlur(gray, (5, 5), 0), 1.0))
    out.append((cv2.equalizeHist(gray), 1.0))
    out.append(
        (cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 51, 10), 1.0)
    )
    return out


#: modules across a worker's code (version 6–7: 41–45): sizes the deblurring kernels from an outline
CODE_MODULES = 43
#: a frame this directional (``blur.coherence`` of its busiest square) with no code detected in it is
#: taken for a motion-blurred code and deblurred there
MOTION_COHERENCE = 0.3
#: … and only if that square is as full of edges as a code (``blur.edge_share``: codes 0.3–0.7 on the
#: hard set, an empty gate under 0.1), so an empty frame costs no deconvolution
CODE_EDGES = 0.2
#: motion blur lengths tried where no outline gives the module size (pixels: 1–2 modules of a phone
#: filling a 720-line frame; scaled to other frame heights)
MOTION_PX = (9.0, 6.0, 12.0)

_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


def unsharp(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return cv2.addWeighted(gray, 1 + amount, cv2.GaussianBlur(gray, (0, 0), sigma), -amount, 0)


def webcam_copies(
    gray: np.ndarray, *, module_px: float | None, deblur: bool
) -> Iterator[tuple[str, np.ndarray, float]]:
    """Copies of a crop around a code that undo what a webcam does to a phone screen, made one at a
    time as asked for (the caller stops at its time budget): (name, image, scale). ``deblur`` False:
    the cheap filters (~1 ms each); True: the deconvolutions (~5–20 ms each). ``module_px`` None: a
    square that only looked motion-blurred (``Look.motion``): motion deconvolutions of ``MOTION_PX``.

    What reads what, on the hard set of ``bench/decode.py`` (see README for the figures):
    - ``smooth`` (Gaussian σ 1) and ``median`` (5×5): erase the phone's pixel grid (moiré) and sensor
      noise — grid frames zxing-cpp detects but cannot read;
    - ``smooth_clahe``: noise, then contrast (CLAHE) — the darkest low-light frames;
    - ``half`` (area-averaged half size): a grid finer than the modules;
    - ``unsharp`` and ``wiener_disc`` (deconvolution by a disc of 0.45 module): defocus;
    - ``wiener_motion`` (deconvolution by a line along ``blur.motion_angle``, 1–2 modules): motion blur,
      the one kind the quick pass misses most (a blur of 2 modules wipes out the code's finest stripes).
    """
    if not deblur:
        yield "smooth", cv2.GaussianBlur(gray, (0, 0), 1.0), 1.0
        yield "median", cv2.medianBlur(gray, 5), 1.0
        yield "smooth_clahe", _CLAHE.apply(cv2.GaussianBlur(gray, (0, 0), 1.5)), 1.0
        yield "half", *_scaled(gray, 0.5)
        yield "unsharp", unsharp(cv2.GaussianBlur(gray, (0, 0), 0.8), 2.0, 1.5), 1.0
        if max(gray.shape) < 400:
            yield "double", *_scaled(gray, 2.0)
        return
    angle = motion_angle(gray)
    if module_px is None:
        k = 2 * min(gray.shape[:2]) / 720  # the square is half the frame's height: MOTION_PX is for 720
        for length in MOTION_PX:
            yield f"wiener_motion{length:g}px", wiener(gray, line_kernel(length * k, angle), 0.02), 1.0
        return
    for modules in (1.4, 1.9, 0.9):
        yield f"wiener_motion{modules:g}", wiener(gray, line_kernel(modules * module_px, angle), 0.02), 1.0
    yield "wiener_disc", wiener(gray, disc_kernel(0.45 * module_px), 0.01), 1.0


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

#: the most a frame's retries may cost (ms): at the budget the chain stops and the next frame is the
#: next chance (a phone is held up for a second: ~30 frames)
RETRY_BUDGET_MS = 120.0


@dataclass(slots=True)
class Look:
    """What the quick pass saw in a frame: codes read, outlines of codes detected but not read, and a
    square that looks like a motion-blurred code (no outline)."""

    found: list[Decoded]
    suspects: list[Points]
    motion: Points = ()

    @property
    def worth_retrying(self) -> bool:
        return not self.found and bool(self.suspects or self.motion)


class ChainDecoder:
    """The decoder chain: ``decoder(image)`` is ``quick``, then ``retry`` when it read nothing.

    ``quick`` (every frame, a few ms): zxing-cpp (global-histogram binarizer, then local-average with
    the outlines of codes it could not read kept), then zxing-cpp on a copy smoothed by a Gaussian of
    σ 1 (low light, the screen's pixel grid), then, when nothing was read, the busiest square of the
    frame if it is as full of edges as a code and directional (a motion blur).

    ``retry`` (only frames ``quick`` could not read; at most ``budget_ms``): on small frames the whole
    chain on the whole image; on large ones, crops around the outlines, first the webcam copies
    (``webcam_copies``), then the other readers and the altered copies of ``variants``.

    The officer screen calls the two apart: ``quick`` in the camera thread, ``retry`` in its own worker
    on the latest frame worth retrying (``Look.worth_retrying``); ``kiosk run --headless`` calls the
    whole. Keeps per-frame state: one per thread.
    """

    def __init__(
        self,
        first: Reader,
        others: Sequence[Reader],
        *,
        retry: Sequence[Reader] = (),
        suspects: list[Points] | None = None,
        full_chain_px: int = FULL_CHAIN_PX,
        budget_ms: float = RETRY_BUDGET_MS,
        webcam: Sequence[Reader] = (),
        smoothed: Reader | None = None,
        curved: Reader | None = None,
    ) -> None:
        self.first, self.others, self.retry_readers = first, list(others), list(retry)
        self._suspects = suspects
        self.full_chain_px, self.budget_ms = full_chain_px, budget_ms
        self.webcam = list(webcam)
        self.smoothed = smoothed
        self.curved = curved
        #: which step read the last frame (``quick``, ``others``, a copy's name): the benchmark's tally
        self.last_step = ""

    def quick(self, image: np.ndarray) -> Look:
        gray = to_gray(image)
        if self._suspects is not None:
            self._suspects.clear()
        found = self.first(gray)
        self.last_step = "quick" if found else ""
        if not found and self.smoothed is not None:
            # low light and the pixel grid: most of these frames read here (README: figures)
            found = self.smoothed(cv2.GaussianBlur(gray, (0, 0), 1.0))
            self.last_step = "quick_smoothed" if found else ""
        suspects = list(self._suspects or [])
        motion: Points = ()
        if not found and self.webcam and min(gray.shape[:2]) >= 120:
            box = busiest_window(gray, min(gray.shape[:2]) // 2)
            crop = _crop(gray, box, margin=0.0)[2]
            if edge_share(crop) >= CODE_EDGES and coherence(crop) >= MOTION_COHERENCE:
                motion = box
        return Look(_unique(found), suspects, motion)

    def retry(self, image: np.ndarray, look: Look, *, budget_ms: float | None = None) -> list[Decoded]:
        """The whole chain on a frame ``quick`` could not read (``look`` is what it saw): the whole of
        a small frame, crops around the outlines in a large one; stops at the time budget."""
        gray = to_gray(image)
        deadline = time.perf_counter() + (self.budget_ms if budget_ms is None else budget_ms) / 1000.0
        if max(gray.shape[:2]) <= self.full_chain_px or self._suspects is None:
            if look.motion:  # a code-like, directional square: its motion deblurring first (specific)
                x0, y0, crop = _crop(gray, look.motion, margin=0.0)
                if found := self._webcam(crop, deadline, module_px=None, deblur=True):
                    return _unique(
                        [Decoded(d.text, tuple((x + x0, y + y0) for x, y in d.points)) for d in found]
                    )
            module = min(gray.shape[:2]) / (CODE_MODULES + 8)
            return _unique(self._rest(gray, deadline, module_px=module))
        crops: list[tuple[int, int, np.ndarray, float | None]] = []
        for pts in _distinct(look.suspects)[:MAX_SUSPECTS]:
            x0, y0, crop = _crop(gray, pts)
            if min(crop.shape[:2]) >= 21:  # else nothing a code could be read from
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                crops.append((x0, y0, crop, max(max(xs) - min(xs), max(ys) - min(ys)) / CODE_MODULES))
        # cheapest and likeliest first: filters on each outline, then the motion square's deblurring
        # (a small outline — a finder pattern — misjudges the module), then deblurring each outline,
        # then the other readers and the plain altered copies
        steps: list[tuple[int, int, np.ndarray, float | None, str]] = [(*c, "filters") for c in crops]
        if look.motion:
            steps.append((*_crop(gray, look.motion, margin=0.0), None, "deblur"))
        steps += [(*c, "deblur") for c in crops] + [(*c, "rest") for c in crops]
        out: list[Decoded] = []
        for x0, y0, crop, module, what in steps:
            if what == "rest":
                found = self._rest(crop, deadline, module_px=module or 1.0, webcam=False)
            else:
                found = self._webcam(crop, deadline, module_px=module, deblur=what == "deblur")
            out += [Decoded(d.text, tuple((x + x0, y + y0) for x, y in d.points)) for d in found]
            if out or time.perf_counter() > deadline:
                break
        return _unique(out)

    def _rest(
        self, gray: np.ndarray, deadline: float, *, module_px: float, webcam: bool = True
    ) -> list[Decoded]:
        for r in self.others:
            if found := r(gray):
                self.last_step = "others"
                return found
            if time.perf_counter() > deadline:
                return []
        if webcam and self.curved is not None and (found := self.curved(gray)):
            # a code on cloth: zxing-qrcode-4-08 of the corpus (the one image it adds there)
            self.last_step = "curved"
            return found
        for i, (copy, f) in enumerate(variants(gray) if self.retry_readers else ()):
            for r in self.retry_readers:
                if found := r(copy):
                    self.last_step = f"variant{i}"
                    return _rescale(found, f)
            if time.perf_counter() > deadline:
                return []
        if not webcam:
            return []
        return self._webcam(gray, deadline, module_px=module_px, deblur=False) or self._webcam(
            gray, deadline, module_px=module_px, deblur=True
        )

    def _webcam(
        self, gray: np.ndarray, deadline: float, *, module_px: float | None, deblur: bool
    ) -> list[Decoded]:
        if not self.webcam:
            return []
        for name, copy, f in webcam_copies(gray, module_px=module_px, deblur=deblur):
            for r in self.webcam:
                if found := r(copy):
                    self.last_step = name
                    return _rescale(found, f)
            if time.perf_counter() > deadline:
                return []
        return []

    def __call__(self, image: np.ndarray) -> list[Decoded]:
        look = self.quick(image)
        if look.found or not (self.others or self.retry_readers or self.webcam):
            return look.found
        if (
            self._suspects is not None
            and max(image.shape[:2]) > self.full_chain_px
            and not look.worth_retrying
        ):
            return []
        return self.retry(image, look)


#: outlines retried in a large frame (zxing-cpp often reports one code as several)
MAX_SUSPECTS = 2


def _distinct(suspects: Sequence[Points]) -> list[Points]:
    """The outlines, biggest first, without those whose centre lies inside a bigger one's box."""

    def box(p: Points) -> tuple[int, int, int, int]:
        xs, ys = [q[0] for q in p], [q[1] for q in p]
        return min(xs), min(ys), max(xs), max(ys)

    out: list[Points] = []
    for p in sorted(suspects, key=lambda p: -(box(p)[2] - box(p)[0]) * (box(p)[3] - box(p)[1])):
        x0, y0, x1, y1 = box(p)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in map(box, out)):
            out.append(p)
    return out


def _crop(gray: np.ndarray, pts: Points, margin: float = 0.3) -> tuple[int, int, np.ndarray]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    pad = int(max(max(xs) - min(xs), max(ys) - min(ys)) * margin) + 8
    h, w = gray.shape[:2]
    x0, y0 = max(0, min(xs) - pad), max(0, min(ys) - pad)
    x1, y1 = min(w, max(xs) + pad), min(h, max(ys) + pad)
    return x0, y0, gray[y0:y1, x0:x1]


def make_decoder(
    name: str = "zxingcpp",
    *,
    fallback: bool = True,
    retries: bool = True,
    budget_ms: float = RETRY_BUDGET_MS,
) -> ChainDecoder:
    """The kiosk's decoder: ``name`` first, then (``fallback``) the others in the order of
    ``DECODERS``, then (``retries``) altered copies, within ``budget_ms`` a frame.
    ``fallback=False, retries=False``: the plain reader."""
    if name not in READERS:
        raise StoreError(
            f"未知的解码器 {name!r}（可选：{'、'.join(DECODERS)}）",
            f"Unknown decoder {name!r} (one of: {', '.join(DECODERS)})",
        )
    suspects: list[Points] | None = [] if name == "zxingcpp" and (fallback or retries) else None
    first = _safe(
        name,
        zxingcpp_reader(suspects=suspects, quick=fallback or retries)
        if name == "zxingcpp"
        else READERS[name](),
    )
    others = [] if not fallback else [_safe(n, READERS[n]()) for n in DECODERS if n != name]
    retry = [first, *others[:1]] if retries else []
    webcam = [_safe("zxingcpp", zxingcpp_reader(quick=True))] if retries else []
    smoothed = (
        _safe("zxingcpp", zxingcpp_reader(suspects=suspects, quick=False)) if suspects is not None else None
    )
    curved = _safe("opencv", opencv_curved_reader()) if fallback and retries else None
    return ChainDecoder(
        first,
        others,
        retry=retry,
        suspects=suspects,
        budget_ms=budget_ms,
        webcam=webcam,
        smoothed=smoothed,
        curved=curved,
    )
