"""The simulated phone: a token drawn as a phone screen seen by a webcam.

``phone_frame(token)`` renders the QR code (``qrcode``) on a phone's screen (light, or dark mode with
light modules on a dark screen), held at arm's length in front of a cluttered background, then puts
it through what a webcam does to it (OpenCV): perspective and rotation, blur, a glare spot, sensor
noise. It is deterministic for a seed. ``write_folder`` and ``write_video`` make folders and videos
of such frames; ``SimulatedCamera`` is a frame source showing a sequence of tokens at a human pace
(the demo, tests and the benchmark use it). Everything drawn is synthetic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from kiosk.camera.sources import Frame, SourceState, StateCallback, _Base

Size = tuple[int, int]  # (width, height)


def qr_modules(token: str, *, border: int = 4) -> np.ndarray:
    """The module matrix of a token's QR code (True = dark), with its quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    qr.add_data(token)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def phone_screen(token: str, *, dark: bool = False, width: int = 540) -> np.ndarray:
    """A portrait phone (BGR) showing the token's code in an app-like screen."""
    height = int(width * 2.0)
    bezel = width // 30
    fg, bg = (225, 30) if dark else (20, 250)
    img = np.full((height, width, 3), 15, np.uint8)  # the phone's black body
    screen = img[bezel : height - bezel, bezel : width - bezel]
    screen[:] = bg
    sh, sw = screen.shape[:2]
    screen[: sh // 9] = (60, 150, 40) if not dark else (40, 90, 30)  # app header bar
    for i in range(3):  # lines of "text" above the code
        y = sh // 9 + 30 + i * 34
        cv2.rectangle(screen, (40, y), (sw - 40 - 60 * i, y + 14), (fg // 2 + bg // 2,) * 3, -1)
    modules = qr_modules(token)
    side = int(sw * 0.86)
    cells = np.where(modules, fg, bg).astype(np.uint8)
    code = cv2.resize(cells, (side, side), interpolation=cv2.INTER_NEAREST)
    y0, x0 = sh // 9 + 150, (sw - side) // 2
    screen[y0 : y0 + side, x0 : x0 + side] = code[..., None]
    return img


def background(size: Size = (1280, 720), *, seed: int = 0) -> np.ndarray:
    """A gate-like cluttered scene: a gradient, boxes and noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    base = np.empty((h, w, 3), np.float32)
    for c, (a, b) in enumerate(rng.uniform(60, 200, (3, 2))):
        base[..., c] = a + (b - a) * yy
    img = base.astype(np.uint8)
    for _ in range(8):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cw, ch = int(rng.integers(w // 20, w // 4)), int(rng.integers(h // 20, h // 3))
        colour = tuple(int(v) for v in rng.integers(30, 230, 3))
        cv2.rectangle(img, (x, y), (x + cw, y + ch), colour, -1)
    return img


def phone_frame(
    token: str | None,
    *,
    size: Size = (1280, 720),
    dark: bool = False,
    seed: int = 0,
    scale: float | None = None,
    angle: float | None = None,
    tilt: float | None = None,
    blur: float | None = None,
    glare: float | None = None,
    noise: float | None = None,
) -> np.ndarray:
    """A webcam frame (BGR uint8, ``size`` = (width, height)) of a phone showing ``token``'s code.

    Unset effects are drawn from ``seed``: ``scale`` (the phone's height as a share of the frame's),
    ``angle`` (degrees of in-plane rotation), ``tilt`` (perspective, 0–0.3), ``blur`` (Gaussian sigma),
    ``glare`` (0–1, a bright spot's strength) and ``noise`` (sigma, grey levels). ``token`` None: the
    scene without a phone (nobody at the gate).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    frame = background(size, seed=seed % 7)
    scale = rng.uniform(0.78, 0.95) if scale is None else scale
    angle = rng.uniform(-15, 15) if angle is None else angle
    tilt = rng.uniform(0.0, 0.12) if tilt is None else tilt
    blur = rng.uniform(0.4, 1.1) if blur is None else blur
    glare = rng.uniform(0.0, 0.35) if glare is None else glare
    noise = rng.uniform(2.0, 5.0) if noise is None else noise
    if token is not None:
        phone = phone_screen(token, dark=dark)
        ph, pw = phone.shape[:2]
        target_h = h * scale
        target_w = target_h * pw / ph
        cx = w / 2 + rng.uniform(-0.2, 0.2) * w
        cy = h / 2 + rng.uniform(-0.02, 0.02) * h
        # the phone's corners: a rectangle, one side pushed away (tilt), rotated about its centre
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * [target_w / 2, target_h / 2]
        side = int(rng.integers(0, 4))
        shrink = np.ones(4, np.float32)
        shrink[[side, (side + 1) % 4]] = 1.0 - tilt
        corners = half * shrink[:, None]
        a = np.deg2rad(angle)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
        dst = (corners @ rot.T + [cx, cy]).astype(np.float32)
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(phone, m, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR)
        np.copyto(frame, warped, where=mask[..., None] > 127)
        if glare > 0:
            gx, gy = dst.mean(axis=0) + rng.uniform(-0.25, 0.25, 2) * [target_w, target_h]
            _add_glare(frame, float(gx), float(gy), target_w * 0.35, glare)
    if blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    if noise > 0:
        grain = (rng.standard_normal((h, w), dtype=np.float32) * noise).astype(np.int16)
        frame = cv2.add(frame.astype(np.int16), cv2.merge([grain, grain, grain]), dtype=cv2.CV_8U)
    return frame


def _add_glare(frame: np.ndarray, gx: float, gy: float, r: float, strength: float) -> None:
    """A soft bright spot (a lamp reflected on the screen), added in place around (gx, gy)."""
    h, w = frame.shape[:2]
    x0, x1 = max(0, int(gx - 3 * r)), min(w, int(gx + 3 * r))
    y0, y1 = max(0, int(gy - 3 * r)), min(h, int(gy + 3 * r))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.ogrid[y0:y1, x0:x1]
    spot = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r)).astype(np.float32) * (255 * strength)
    roi = frame[y0:y1, x0:x1]
    roi[:] = np.clip(roi.astype(np.float32) + spot[..., None], 0, 255).astype(np.uint8)


def write_folder(
    tokens: Iterable[str | None],
    folder: str | Path,
    *,
    size: Size = (1280, 720),
    dark_every: int = 0,
    seed: int = 0,
    ext: str = ".jpg",
    quality: int = 85,
) -> list[Path]:
    """One frame a token in ``folder`` (``000000.jpg`` …, sorted as given); every ``dark_every``-th in
    dark mode (0: none). JPEG ``quality`` 85 is about what a webcam's MJPEG stream delivers. Returns
    the files."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, token in enumerate(tokens):
        dark = dark_every > 0 and i % dark_every == dark_every - 1
        path = out / f"{i:06d}{ext}"
        params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext.lower() in (".jpg", ".jpeg") else []
        if not cv2.imwrite(str(path), phone_frame(token, size=size, dark=dark, seed=seed + i), params):
            raise OSError(f"cannot write {path}")
        paths.append(path)
    return paths


def write_video(
    tokens: Iterable[str | None],
    path: str | Path,
    *,
    size: Size = (1280, 720),
    fps: float = 10.0,
    frames_per_token: int = 5,
    gap_frames: int = 2,
    dark_every: int = 0,
    seed: int = 0,
) -> Path:
    """A video (``.avi``: MJPEG, else MP4) showing each token for ``frames_per_token`` frames with
    ``gap_frames`` empty frames between."""
    path = Path(path)
    fourcc = cv2.VideoWriter.fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write the video {path}")
    try:
        for i, token in enumerate(tokens):
            dark = dark_every > 0 and i % dark_every == dark_every - 1
            image = phone_frame(token, size=size, dark=dark, seed=seed + i)
            for _ in range(frames_per_token):
                writer.write(image)
            empty = phone_frame(None, size=size, seed=seed + i)
            for _ in range(gap_frames):
                writer.write(empty)
    finally:
        writer.release()
    return path


class SimulatedCamera(_Base):
    """A frame source of workers showing their phones one after another, at a human pace.

    ``tokens`` may be a lazy iterable (a generator issuing each code when its worker steps up, so the
    two-minute codes are fresh). Each token is shown for ``show_s`` seconds at ``fps``, then the gate
    is empty for ``gap_s``; every ``dark_every``-th phone is in dark mode. After the sequence the
    camera keeps showing the empty gate (``idle_after``) or ends (``read`` returns None).
    ``realtime=False`` yields frames as fast as they are asked for (tests).
    """

    def __init__(
        self,
        tokens: Iterable[str],
        *,
        size: Size = (1280, 720),
        fps: float = 10.0,
        show_s: float = 1.5,
        gap_s: float = 1.5,
        dark_every: int = 3,
        seed: int = 0,
        realtime: bool = True,
        idle_after: bool = True,
        name: str = "simulated",
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state)
        self.size, self.fps, self.seed = size, fps, seed
        self.show_frames = max(1, round(show_s * fps))
        self.gap_frames = max(0, round(gap_s * fps))
        self.dark_every, self.realtime, self.idle_after = dark_every, realtime, idle_after
        self._tokens = tokens
        self._plan: Iterator[np.ndarray] | None = None
        self._stop = threading.Event()
        self._next_t = 0.0

    def open(self) -> None:
        self._set(SourceState.CONNECTING)
        self._stop.clear()
        self._plan = self._frames()
        self._next_t = time.monotonic()
        self._set(SourceState.CONNECTED)

    def _frames(self) -> Iterator[np.ndarray]:
        empty = phone_frame(None, size=self.size, seed=self.seed)
        for i, token in enumerate(self._tokens):
            dark = self.dark_every > 0 and i % self.dark_every == self.dark_every - 1
            image = phone_frame(token, size=self.size, dark=dark, seed=self.seed + i)
            for _ in range(self.show_frames):
                yield image
            for _ in range(self.gap_frames):
                yield empty
        while self.idle_after:
            yield empty

    def read(self) -> Frame | None:
        if self._plan is None or self._stop.is_set():
            return None
        if self.realtime:
            self._next_t += 1.0 / self.fps
            delay = self._next_t - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return None
            if delay < -1.0:  # fell far behind (a slow consumer): do not try to catch up
                self._next_t = time.monotonic()
        image = next(self._plan, None)
        if image is None:
            self._set(SourceState.ENDED)
            return None
        return self._frame(image.copy())

    def stop(self) -> None:
        """Wake a ``read`` waiting for the next frame (from another thread); it returns None."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._plan = None
