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
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from kiosk.camera.blur import disc_kernel, line_kernel
from kiosk.camera.sources import Frame, SourceState, StateCallback, _Base

Size = tuple[int, int]  # (width, height)

#: the code's side as a share of the phone screen's width
CODE_SHARE = 0.86


def qr_modules(token: str, *, border: int = 4) -> np.ndarray:
    """The module matrix of a token's QR code (True = dark), with its quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    qr.add_data(token)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def phone_screen(token: str, *, dark: bool = False, width: int = 540) -> np.ndarray:
    """A portrait phone (BGR) showing the token's code in an app-like screen, ``width`` phone pixels wide."""
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
    side = int(sw * CODE_SHARE)
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
    shift: tuple[float, float] | None = None,
    scene: int | None = None,
    defocus: float = 0.0,
    motion: float = 0.0,
    motion_angle: float = 0.0,
    grid: float = 0.0,
    grid_px: int = 540,
    light: float = 1.0,
) -> np.ndarray:
    """A webcam frame (BGR uint8, ``size`` = (width, height)) of a phone showing ``token``'s code.

    Unset effects are drawn from ``seed``: ``scale`` (the phone's height as a share of the frame's),
    ``angle`` (degrees of in-plane rotation), ``tilt`` (perspective, 0–0.3), ``blur`` (Gaussian sigma),
    ``glare`` (0–1, a bright spot's strength), ``noise`` (sigma, grey levels) and ``shift`` (the
    phone's centre off the frame's, as shares of its width and height). ``scene`` picks the background
    (default: from ``seed``). ``token`` None: the scene without a phone (nobody at the gate).

    What a real webcam adds, all off by default (``hard_frame`` draws them by kind), blur sizes in the
    code's modules as seen in this frame: ``defocus`` (the radius of a disc blur: the phone inside
    the webcam's fixed focus), ``motion`` (the length of a line blur at ``motion_angle`` degrees: the
    hand moving during the exposure), ``grid`` (0–1: the strength of the phone's own pixel grid —
    RGB stripes and the dark gaps between ``grid_px`` phone pixels across the screen — sampled by the
    webcam's sensor without an optical low-pass filter: moiré), ``light`` (below 1: a dim gate at
    dawn; the signal is scaled down, shot noise grows with it, and the camera's gain brings it back
    up with the noise).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    frame = background(size, seed=seed % 7 if scene is None else scene)
    scale = rng.uniform(0.78, 0.95) if scale is None else scale
    angle = rng.uniform(-15, 15) if angle is None else angle
    tilt = rng.uniform(0.0, 0.12) if tilt is None else tilt
    blur = rng.uniform(0.4, 1.1) if blur is None else blur
    glare = rng.uniform(0.0, 0.35) if glare is None else glare
    noise = rng.uniform(2.0, 5.0) if noise is None else noise
    module_px = 0.0
    if token is not None:
        phone = phone_screen(token, dark=dark, width=grid_px if grid > 0 else 540)
        ph, pw = phone.shape[:2]
        target_h = h * scale
        target_w = target_h * pw / ph
        sx = rng.uniform(-0.2, 0.2) if shift is None else shift[0]
        sy = rng.uniform(-0.02, 0.02) if shift is None else shift[1]
        cx, cy = w / 2 + sx * w, h / 2 + sy * h
        # the phone's corners: a rectangle, one side pushed away (tilt), rotated about its centre
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * [target_w / 2, target_h / 2]
        side = int(rng.integers(0, 4))
        shrink = np.ones(4, np.float32)
        shrink[[side, (side + 1) % 4]] = 1.0 - tilt
        corners = half * shrink[:, None]
        a = np.deg2rad(angle)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
        dst = (corners @ rot.T + [cx, cy]).astype(np.float32)
        if grid > 0:
            phone = _pixel_grid(phone, grid)
            ph, pw = phone.shape[:2]
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        if grid > 0:  # each sensor pixel sums the light over its area: sampled at 2×2 points a pixel
            m2 = cv2.getPerspectiveTransform(src, dst * 2)
            warped = cv2.resize(
                cv2.warpPerspective(phone, m2, (2 * w, 2 * h), flags=cv2.INTER_LINEAR),
                (w, h),
                interpolation=cv2.INTER_AREA,
            )
        else:
            warped = cv2.warpPerspective(phone, m, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR)
        np.copyto(frame, warped, where=mask[..., None] > 127)
        if glare > 0:
            gx, gy = dst.mean(axis=0) + rng.uniform(-0.25, 0.25, 2) * [target_w, target_h]
            _add_glare(frame, float(gx), float(gy), target_w * 0.35, glare)
        n_modules = qr_modules(token).shape[0]
        module_px = target_w * (1 - 2 / 30) * CODE_SHARE / n_modules * (1 - tilt / 2)
    if defocus > 0 and module_px:
        frame = cv2.filter2D(frame, -1, disc_kernel(defocus * module_px))
    if motion > 0 and module_px:
        frame = cv2.filter2D(frame, -1, line_kernel(motion * module_px, motion_angle))
    if blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    if light < 1.0:
        frame = _low_light(frame, light, rng)
    if noise > 0:
        grain = (rng.standard_normal((h, w), dtype=np.float32) * noise).astype(np.int16)
        frame = cv2.add(frame.astype(np.int16), cv2.merge([grain, grain, grain]), dtype=cv2.CV_8U)
    return frame


def _pixel_grid(phone: np.ndarray, strength: float) -> np.ndarray:
    """The phone's screen as its sub-pixels: each pixel three columns (R, G, B stripes, each lit in its
    own colour only) and a dark row between pixel rows (the black matrix); ``strength`` 0–1 mixes
    that with the plain picture. Three times the size of ``phone`` (uint8 all the way: it is big)."""
    up = cv2.resize(phone, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    h, w = up.shape[:2]
    gain = np.zeros((3, 3, 3), np.float32)  # (row, column, BGR channel) within one pixel
    for col, channel in enumerate((2, 1, 0)):  # R, G, B stripes left to right
        gain[:2, col, channel] = 3.0  # the light of the pixel, concentrated in its stripe
    gain[2] = 0.15  # the black matrix between rows
    mask = np.round(64 * (1 - strength + strength * gain)).astype(np.uint8)  # gain × 64
    tile = np.tile(mask, (h // 3, w // 3, 1))
    return cv2.multiply(up, tile, scale=1 / 64)


def _low_light(frame: np.ndarray, light: float, rng: np.random.Generator) -> np.ndarray:
    """A dim scene: ``light`` of the photons, so shot noise (Poisson, ~1 electron a grey level at full
    light) grows relatively; the camera's gain brings the level half back up, with its noise."""
    electrons = frame.astype(np.float32) * light
    shot = rng.standard_normal(frame.shape[:2], dtype=np.float32)[..., None] * np.sqrt(electrons + 1.0)
    gain = 0.5 / light
    return cast(np.ndarray, np.clip((electrons + shot) * gain, 0, 255).astype(np.uint8))


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


# --- the hard set: what a laptop webcam sees of a phone at 7 a.m. -------------------------------

#: the kinds of hard frame (``hard_frame``), each on top of the ordinary perturbations
HARD_KINDS = ("defocus", "motion", "grid", "lowlight", "combined")


def hard_params(kind: str, seed: int) -> dict[str, Any]:
    """The effects of a ``kind`` of hard frame, drawn from ``seed`` (keyword arguments of ``phone_frame``).

    - defocus: a disc blur of radius 0.3–0.6 of a module, a little lens blur.
    - motion: a line blur of 0.5–2 modules in any direction.
    - grid: the phone's pixel grid (strength 0.5–1) at 360–800 phone pixels across the screen, i.e. a
      non-integer 1.2–2.7 phone pixels to a webcam pixel: moiré stripes through the modules.
    - lowlight: 8–25 % of the light, with shot noise and the camera's gain.
    - combined: two or three of those at up to two thirds of their strength.
    """
    rng = np.random.default_rng([seed, HARD_KINDS.index(kind)])
    lens = {"blur": float(rng.uniform(0.3, 0.7))}

    def defocus(k: float = 1.0) -> dict[str, float]:
        return {"defocus": float(rng.uniform(0.3, 0.6) * k)}

    def motion(k: float = 1.0) -> dict[str, float]:
        return {"motion": float(rng.uniform(0.5, 2.0) * k), "motion_angle": float(rng.uniform(0, 180))}

    def grid(k: float = 1.0) -> dict[str, float]:
        return {"grid": float(rng.uniform(0.5, 1.0) * k), "grid_px": int(rng.integers(360, 800))}

    def lowlight(k: float = 1.0) -> dict[str, float]:
        return {"light": float(1 - (1 - rng.uniform(0.08, 0.25)) * k), "noise": 2.0}

    if kind == "combined":
        makers = [defocus, motion, grid, lowlight]
        picked = rng.choice(4, size=int(rng.integers(2, 4)), replace=False)
        out = dict(lens)
        for i in sorted(picked):
            out.update(makers[i](2 / 3))
        return out
    return {**lens, **{"defocus": defocus, "motion": motion, "grid": grid, "lowlight": lowlight}[kind]()}


def hard_frame(
    token: str,
    kind: str,
    *,
    seed: int = 0,
    size: Size = (1280, 720),
    dark: bool = False,
    quality: int = 85,
    **overrides: float | tuple[float, float],
) -> np.ndarray:
    """A hard webcam frame of ``kind`` (``HARD_KINDS``), through the webcam's MJPEG at ``quality``
    (0: no JPEG). ``overrides`` go to ``phone_frame`` over the drawn parameters."""
    if kind not in HARD_KINDS:
        raise ValueError(f"unknown kind of hard frame {kind!r} (one of {', '.join(HARD_KINDS)})")
    params: dict[str, Any] = {**hard_params(kind, seed), **overrides}
    frame = phone_frame(token, size=size, dark=dark, seed=seed, **params)
    if quality:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and (decoded := cv2.imdecode(buf, cv2.IMREAD_COLOR)) is not None:
            return np.asarray(decoded, np.uint8)
    return frame


def sequence_frame(
    token: str, kind: str, *, seed: int, index: int, frames: int = 30, dark: bool = False
) -> np.ndarray:
    """Frame ``index`` of a phone held up to the webcam for ``frames`` frames (30 fps: a second): the
    ``kind``'s effects (``hard_params`` of ``seed``) vary from frame to frame — the hand speeds up and
    slows down (motion blur from a fifth of its length to all of it, its direction swinging), the
    phone drifts towards the camera's centre and nearer (position, size, angle: focus and the moiré
    change with them) — and each frame has its own sensor noise."""
    if kind not in HARD_KINDS:
        raise ValueError(f"unknown kind of hard frame {kind!r} (one of {', '.join(HARD_KINDS)})")
    base = hard_params(kind, seed)
    rng = np.random.default_rng([seed, 7919])
    start, end = rng.uniform(-0.2, 0.2, 2) * [1, 0.1], rng.uniform(-0.08, 0.08, 2) * [1, 0.1]
    s0, s1 = rng.uniform(0.74, 0.86), rng.uniform(0.82, 0.95)
    a0, a1 = rng.uniform(-15, 15, 2)
    phase, speed = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.45)
    tilt, glare = float(rng.uniform(0.0, 0.06)), float(rng.uniform(0.0, 0.3))
    u = index / max(1, frames - 1)
    params: dict[str, Any] = dict(base)
    if "motion" in base:
        params["motion"] = base["motion"] * (0.2 + 0.8 * abs(np.sin(phase + speed * index)))
        params["motion_angle"] = (base["motion_angle"] + 25 * np.sin(phase + 0.1 * index)) % 180
    if "defocus" in base:  # the phone moves through the focus
        params["defocus"] = base["defocus"] * (0.7 + 0.3 * abs(np.cos(phase + 0.2 * index)))
    shift = start + (end - start) * u + rng.normal(0, 0.004, 2) * (index + 1) ** 0.5
    frame = phone_frame(
        token,
        dark=dark,
        seed=seed * 1000 + index,
        scene=seed % 7,
        tilt=tilt,
        glare=glare,
        scale=float(s0 + (s1 - s0) * u),
        angle=float(a0 + (a1 - a0) * u),
        shift=(float(shift[0]), float(shift[1])),
        **params,
    )
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if ok and (decoded := cv2.imdecode(buf, cv2.IMREAD_COLOR)) is not None:
        return np.asarray(decoded, np.uint8)
    return frame


#: the length of a worker's personal code (``store.codes.tokens``): ``SJM1:`` and 148 base32 characters
TOKEN_CHARS = 153


def sample_tokens(n: int, *, seed: int = 0) -> list[str]:
    """``n`` texts shaped like worker codes (same prefix, alphabet and length, so the same QR version
    and mode), the same for the same seed: frames that do not change from run to run. Not genuine
    codes: a verifier refuses them."""
    rng = np.random.default_rng(seed)
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
    return ["SJM1:" + "".join(rng.choice(alphabet, TOKEN_CHARS - 5)) for _ in range(n)]


def hard_set(tokens: Sequence[str], *, per_kind: int, seed: int = 0) -> Iterator[tuple[str, str, np.ndarray]]:
    """(kind, token, frame) for ``per_kind`` frames of each kind; every third in dark mode."""
    for kind in HARD_KINDS:
        for i in range(per_kind):
            token = tokens[i % len(tokens)]
            yield kind, token, hard_frame(token, kind, seed=seed + i, dark=i % 3 == 2)


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


# write_folder and write_video take the same frame options by design (one test feed, two containers).
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
    ``realtime=False`` yields frames as fast as they are asked for (tests). Every ``hard_every``-th
    phone (0: none) is a hard frame (``hard_frame``: defocus, motion blur, pixel grid, low light or
    several, in turn) — what a laptop webcam really sees, for the decoder's retries.
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
        hard_every: int = 0,
        name: str = "simulated",
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(name, on_state)
        self.size, self.fps, self.seed = size, fps, seed
        self.show_frames = max(1, round(show_s * fps))
        self.gap_frames = max(0, round(gap_s * fps))
        self.dark_every, self.realtime, self.idle_after = dark_every, realtime, idle_after
        self.hard_every = hard_every
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

    def _render(self, i: int, token: str) -> np.ndarray:
        dark = self.dark_every > 0 and i % self.dark_every == self.dark_every - 1
        if self.hard_every > 0 and i % self.hard_every == self.hard_every - 1:
            kind = HARD_KINDS[(i // self.hard_every) % len(HARD_KINDS)]
            return hard_frame(token, kind, size=self.size, dark=dark, seed=self.seed + i)
        return phone_frame(token, size=self.size, dark=dark, seed=self.seed + i)

    def _frames(self) -> Iterator[np.ndarray]:
        """The frames; the next phone is drawn on a thread of its own while this one is shown (a real
        camera's frames do not wait for what is in front of it)."""
        empty = phone_frame(None, size=self.size, seed=self.seed)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulated-phone") as pool:
            queue = enumerate(self._tokens)
            if self.realtime:
                # a live camera shows the empty gate at once; the first worker steps up when his phone
                # is drawn (a lazy queue may take its time: the demo makes its store there)
                yield empty
                coming = pool.submit(next, queue, None)
                while not coming.done():
                    yield empty
                first = coming.result()
            else:
                first = next(queue, None)
            pending = pool.submit(self._render, *first) if first is not None else None
            while pending is not None:
                image = pending.result()
                following = next(queue, None)
                pending = pool.submit(self._render, *following) if following is not None else None
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
