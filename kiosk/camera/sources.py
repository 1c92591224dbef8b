"""Frame sources: where camera frames come from, behind one small interface.

``open_source(spec)`` picks the kind from the spec:

- ``"0"``, ``"1"`` … or ``/dev/video0``: a webcam (asked for 1280×720: at 640×480 far fewer phone codes
  decode); ``rtsp://``, ``http(s)://``: an IP camera stream. Both are *live*: when they drop they are
  reopened with backoff (0.5 s doubling to 8 s), reporting ``RECONNECTING`` then ``CONNECTED`` or, after
  ``max_retries``, ``FAILED``.
- a video file: its frames in order, then ``None`` (``ENDED``).
- a folder of images: the images sorted by name, then ``None`` (``ENDED``).

Keyboard-wedge scanners type text, not frames: ``wedge_lines`` reads their lines (see ``kiosk.gate``
``Gate.handle_text``).

Every state change is reported to ``on_state(state, detail)`` with a bilingual detail; opening
failures raise ``SourceError`` naming the source. Nothing here logs image content. The states, the error,
``Frame`` and the ``FrameSource`` interface live in ``kiosk.camera.frames`` (no OpenCV there).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from kiosk.camera.frames import Frame as Frame
from kiosk.camera.frames import FrameSource as FrameSource
from kiosk.camera.frames import SourceError as SourceError
from kiosk.camera.frames import SourceState as SourceState
from kiosk.camera.frames import StateCallback as StateCallback
from kiosk.i18n import both

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
)
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mjpeg", ".mjpg", ".wmv", ".mpg"}
)


class _Base:
    """State bookkeeping shared by the sources."""

    name: str
    on_state: StateCallback | None

    def __init__(self, name: str, on_state: StateCallback | None) -> None:
        self.name = name
        self.on_state = on_state
        self.state = SourceState.CONNECTING
        self._index = 0

    def _set(self, state: SourceState, extra: str = "") -> None:
        self.state = state
        if self.on_state is not None:
            detail = f"{both(f'camera.{state.value}')}: {self.name}" + (f" ({extra})" if extra else "")
            self.on_state(state, detail)

    def _frame(self, image: np.ndarray, t: float | None = None) -> Frame:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if image.dtype != np.uint8:
            image = cv2.convertScaleAbs(image)
        f = Frame(image=image, index=self._index, t=time.monotonic() if t is None else t, source=self.name)
        self._index += 1
        return f


def _cannot_open(name: str, why_zh: str, why_en: str) -> SourceError:
    return SourceError(f"无法打开视频源 {name}：{why_zh}", f"Cannot open the frame source {name}: {why_en}")


class FolderSource(_Base):
    """The images of a folder, sorted by name (or one image file); unreadable files are skipped.

    The next ``read_ahead`` images are read from disk in a background thread while the caller works
    on the current one (``cv2.imread`` releases the GIL), as a camera delivers its next frame while
    the last is decoded. A frame's ``t`` is when its image was in memory, so time spent waiting in
    that queue counts in the latency.
    """

    def __init__(
        self, folder: str | Path, *, on_state: StateCallback | None = None, read_ahead: int = 1
    ) -> None:
        super().__init__(str(folder), on_state)
        self.folder = Path(folder)
        self.read_ahead = read_ahead
        self._files: list[Path] = []
        self._pos = 0
        self._pending: deque[Future[tuple[np.ndarray | None, float]]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def open(self) -> None:
        self._set(SourceState.CONNECTING)
        if self.folder.is_file():
            self._files = [self.folder]
        elif self.folder.is_dir():
            self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            self._set(SourceState.FAILED)
            raise _cannot_open(self.name, "文件夹不存在", "no such folder")
        self._pos = 0
        self._pending.clear()
        if self.read_ahead > 0 and len(self._files) > 1 and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="folder-read")
        self._set(SourceState.CONNECTED, f"{len(self._files)} images")

    def __len__(self) -> int:
        return len(self._files)

    @property
    def files(self) -> list[Path]:
        """The images, in the order they are read (a frame's ``index`` is its place here)."""
        return self._files

    @staticmethod
    def _load(path: Path) -> tuple[np.ndarray | None, float]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        return image, time.monotonic()

    def _fill(self, depth: int) -> None:
        while self._pool is not None and self._pos < len(self._files) and len(self._pending) < depth:
            self._pending.append(self._pool.submit(self._load, self._files[self._pos]))
            self._pos += 1

    def read(self) -> Frame | None:
        while True:
            self._fill(1)
            if self._pending:
                image, t = self._pending.popleft().result()
            elif self._pos < len(self._files):
                image, t = self._load(self._files[self._pos])
                self._pos += 1
            else:
                break
            if image is not None:
                self._fill(self.read_ahead)
                return self._frame(image, t)
            self._index += 1  # the frame number still counts the file
        if self.state is not SourceState.ENDED:
            self._set(SourceState.ENDED)
        return None

    def close(self) -> None:
        for f in self._pending:
            f.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._files = []


class CaptureSource(_Base):
    """OpenCV ``VideoCapture``: a webcam, a stream (live, reconnected) or a video file (ends)."""

    def __init__(
        self,
        spec: str,
        *,
        width: int = 1280,
        height: int = 720,
        on_state: StateCallback | None = None,
        live: bool | None = None,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        max_retries: int = 8,
        capture_factory: Callable[[int | str], cv2.VideoCapture] | None = None,
    ) -> None:
        super().__init__(spec, on_state)
        self.spec = spec
        self.width, self.height = width, height
        self.target: int | str = int(spec) if spec.isdigit() else spec
        self.live = live if live is not None else not Path(spec).is_file()
        self.backoff_s, self.max_backoff_s, self.max_retries = backoff_s, max_backoff_s, max_retries
        self._factory = capture_factory or _default_capture
        self._cap: cv2.VideoCapture | None = None
        self._stop = threading.Event()

    def _try_open(self) -> cv2.VideoCapture | None:
        cap = self._factory(self.target)
        if not cap.isOpened():
            cap.release()
            return None
        if self.live:
            if self.is_device:  # most USB webcams give 1280×720 at full rate only as MJPEG
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
        return cap

    @property
    def is_device(self) -> bool:
        return isinstance(self.target, int) or self.spec.startswith("/dev/")

    def _size(self) -> str:
        """The resolution the camera actually gives (it may ignore the 1280×720 asked for)."""
        if self._cap is None or not self.live:
            return ""
        w, h = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        return f"{w}×{h}" if w > 0 and h > 0 else ""

    def open(self) -> None:
        self._stop.clear()
        self._set(SourceState.CONNECTING)
        self._cap = self._try_open()
        if self._cap is None:
            self._set(SourceState.FAILED)
            if self.is_device:
                raise _cannot_open(self.name, "找不到摄像头或设备被占用", "no such camera, or it is busy")
            if "://" in self.spec:
                raise _cannot_open(self.name, "无法连接视频流", "cannot connect to the stream")
            if not Path(self.spec).exists():
                raise _cannot_open(self.name, "文件不存在", "no such file")
            raise _cannot_open(self.name, "不是可读的视频", "not a readable video")
        self._set(SourceState.CONNECTED, self._size())

    def read(self) -> Frame | None:
        while not self._stop.is_set():
            if self._cap is not None:
                ok, image = self._cap.read()
                if ok and image is not None:
                    return self._frame(image)
                if not self.live:
                    self._set(SourceState.ENDED)
                    return None
            if not self._reconnect():
                return None
        return None

    def _reconnect(self) -> bool:
        """Reopen a dropped live source with backoff; False when it failed for good (or we stopped)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        delay = self.backoff_s
        for attempt in range(1, self.max_retries + 1):
            self._set(SourceState.RECONNECTING, f"{attempt}/{self.max_retries}")
            if self._stop.wait(delay):
                return False
            self._cap = self._try_open()
            if self._cap is not None:
                self._set(SourceState.CONNECTED, self._size())
                return True
            delay = min(delay * 2, self.max_backoff_s)
        self._set(SourceState.FAILED)
        raise SourceError(
            f"摄像头已断开，重连{self.max_retries}次失败：{self.name}",
            f"The camera {self.name} dropped and could not be reopened after {self.max_retries} tries",
        )

    def stop(self) -> None:
        """Ask a blocked ``read`` (waiting to reconnect) to give up; safe from another thread."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._cap is not None:
            self._cap.release()
            self._cap = None


#: a stream that does not answer within this long counts as lost (OpenCV's FFmpeg default is 30 s)
STREAM_TIMEOUT_MS = 5000


def _default_capture(target: int | str) -> cv2.VideoCapture:
    if isinstance(target, str) and "://" in target:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            STREAM_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            STREAM_TIMEOUT_MS,
        ]
        return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    return cv2.VideoCapture(target)


def open_source(
    spec: str, *, width: int = 1280, height: int = 720, on_state: StateCallback | None = None
) -> FrameSource:
    """The source a spec names, opened (raises ``SourceError`` naming it when it cannot be)."""
    spec = spec.strip()
    if not spec:
        raise _cannot_open("''", "未指定视频源", "no source given")
    path = Path(spec).expanduser()
    src: FolderSource | CaptureSource
    if spec.isdigit() or spec.startswith("/dev/") or "://" in spec:
        src = CaptureSource(spec, width=width, height=height, on_state=on_state, live=True)
    elif path.is_dir() or (path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()):
        src = FolderSource(path, on_state=on_state)
    elif path.is_file():
        src = CaptureSource(str(path), on_state=on_state, live=False)
    else:
        raise _cannot_open(spec, "文件或文件夹不存在", "no such file or folder")
    src.open()
    return src


def iter_frames(source: FrameSource) -> Iterator[Frame]:
    """The frames of a source until it ends (``read`` returns None)."""
    while (frame := source.read()) is not None:
        yield frame


#: a scanner's line longer than this is not a code (the rest of it is skipped, not held in memory)
MAX_LINE_BYTES = 64 * 1024


def wedge_byte_lines(stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Lines of a keyboard-wedge scanner as bytes (decoded per line by the gate: one bad byte spoils
    only its own line); blank lines skipped; an over-long line is cut to ``max_bytes`` (its rest dropped)."""
    while True:
        line = stream.readline(max_bytes)
        if not line:
            return
        if len(line) >= max_bytes and not line.endswith(b"\n"):
            while (rest := stream.readline(max_bytes)) and not rest.endswith(b"\n"):
                pass  # skip to the end of the over-long line
        text = line.rstrip(b"\r\n")
        if text.strip():
            yield text


def wedge_lines(stream: IO[str]) -> Iterator[str]:
    """Codes typed by a USB keyboard-wedge scanner: one per line (it presses Enter); blank lines skipped."""
    for line in stream:
        text = line.rstrip("\r\n")
        if text.strip():
            yield text
