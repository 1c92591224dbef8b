"""Frame sources: a generated video, an image folder, a missing device, a camera that drops, the
keyboard wedge and the simulated camera."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera.simulate import SimulatedCamera, phone_frame, write_folder, write_video
from kiosk.camera.sources import (
    CaptureSource,
    FolderSource,
    Frame,
    FrameSource,
    SourceError,
    SourceState,
    iter_frames,
    open_source,
    wedge_lines,
)

SIZE = (320, 240)


class Recorder:
    def __init__(self) -> None:
        self.states: list[SourceState] = []
        self.details: list[str] = []

    def __call__(self, state: SourceState, detail: str) -> None:
        self.states.append(state)
        self.details.append(detail)


def test_video_file_yields_every_frame_then_ends(tmp_path: Path) -> None:
    video = write_video(["A", None, "B"], tmp_path / "gate.avi", size=SIZE, frames_per_token=2, gap_frames=1)
    rec = Recorder()
    src = open_source(str(video), on_state=rec)
    assert isinstance(src, FrameSource)
    frames = list(iter_frames(src))
    src.close()
    assert [f.index for f in frames] == list(range(9))
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert all(f.source == str(video) for f in frames)
    assert rec.states == [SourceState.CONNECTING, SourceState.CONNECTED, SourceState.ENDED]
    assert frames[0].t <= frames[-1].t


def test_folder_is_read_sorted_and_skips_unreadable_files(tmp_path: Path) -> None:
    write_folder(["A", "B", "C"], tmp_path, size=SIZE)
    (tmp_path / "000001b.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    src = open_source(str(tmp_path))
    assert isinstance(src, FolderSource)
    assert [p.name for p in src.files] == ["000000.jpg", "000001.jpg", "000001b.png", "000002.jpg"]
    frames = list(iter_frames(src))
    assert [f.index for f in frames] == [0, 1, 3]  # the index is the file's place: the broken one counts
    assert src.state is SourceState.ENDED
    assert src.read() is None


def test_single_image_file_is_a_source(tmp_path: Path) -> None:
    path = tmp_path / "one.png"
    cv2.imwrite(str(path), phone_frame("X", size=SIZE))
    assert len(list(iter_frames(open_source(str(path))))) == 1


@pytest.mark.parametrize("spec", ["/dev/video97", "97"])
def test_missing_camera_is_a_clear_error_naming_it(spec: str) -> None:
    rec = Recorder()
    with pytest.raises(SourceError) as err:
        open_source(spec, on_state=rec)
    assert spec in err.value.en and spec in err.value.zh
    assert "camera" in err.value.en
    assert rec.states[-1] is SourceState.FAILED


def test_unreachable_stream_is_a_clear_error_naming_it() -> None:
    url = "http://127.0.0.1:9/video.mjpg"  # the discard port: nothing listens, the connection is refused
    with pytest.raises(SourceError) as err:
        open_source(url)
    assert url in err.value.en and "stream" in err.value.en and url in err.value.zh


def test_missing_file_and_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(str(tmp_path / "nope.mp4"))
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(SourceError, match=r"broken\.mp4"):
        open_source(str(bad))
    with pytest.raises(SourceError):
        open_source("  ")


class FakeCapture:
    """A camera that gives ``frames`` frames and then drops (read fails); ``opens`` decides each open."""

    def __init__(self, frames: int, opened: bool = True) -> None:
        self.left = frames
        self.opened = opened

    def isOpened(self) -> bool:
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: 1280.0, cv2.CAP_PROP_FRAME_HEIGHT: 720.0}.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.zeros((24, 32, 3), np.uint8)

    def release(self) -> None:
        self.opened = False


def _factory(plan: list[FakeCapture]):  # type: ignore[no-untyped-def]
    it = iter(plan)
    return lambda target: next(it, FakeCapture(0, opened=False))


def test_camera_that_drops_is_reopened_and_reports_it() -> None:
    rec = Recorder()
    plan = [FakeCapture(2), FakeCapture(0, opened=False), FakeCapture(3)]
    src = CaptureSource("0", on_state=rec, live=True, backoff_s=0.001, capture_factory=_factory(plan))
    src.open()
    frames = [src.read() for _ in range(5)]
    assert all(isinstance(f, Frame) for f in frames)
    assert [f.index for f in frames if f] == [0, 1, 2, 3, 4]
    assert rec.states == [
        SourceState.CONNECTING,
        SourceState.CONNECTED,
        SourceState.RECONNECTING,
        SourceState.RECONNECTING,
        SourceState.CONNECTED,
    ]
    assert "reconnecting" in rec.details[2] and "0" in rec.details[2]
    assert "1280×720" in rec.details[1]  # the resolution the camera really gives


def test_camera_that_stays_lost_fails_with_a_clear_error() -> None:
    rec = Recorder()
    src = CaptureSource(
        "/dev/video5",
        on_state=rec,
        live=True,
        backoff_s=0.001,
        max_retries=3,
        capture_factory=_factory([FakeCapture(1)]),
    )
    src.open()
    assert src.read() is not None
    with pytest.raises(SourceError) as err:
        src.read()
    assert "/dev/video5" in err.value.en and "3" in err.value.en
    assert rec.states.count(SourceState.RECONNECTING) == 3
    assert rec.states[-1] is SourceState.FAILED


def test_stop_ends_a_reconnect_wait() -> None:
    src = CaptureSource("0", live=True, backoff_s=30, capture_factory=_factory([FakeCapture(0)]))
    src.open()
    src.stop()
    assert src.read() is None


def test_keyboard_wedge_lines() -> None:
    typed = io.StringIO("SJM1:ABC\r\n\n   \nSJM1:DEF\n")
    assert list(wedge_lines(typed)) == ["SJM1:ABC", "SJM1:DEF"]


def test_simulated_camera_shows_each_token_then_ends_or_idles() -> None:
    rec = Recorder()
    cam = SimulatedCamera(
        ["A", "B"], size=SIZE, fps=10, show_s=0.2, gap_s=0.1, realtime=False, idle_after=False, on_state=rec
    )
    cam.open()
    frames = list(iter_frames(cam))
    assert len(frames) == 2 * (2 + 1)
    assert rec.states[-1] is SourceState.ENDED
    idle = SimulatedCamera(iter(["A"]), size=SIZE, show_s=0.1, gap_s=0, realtime=False)
    idle.open()
    assert all(idle.read() is not None for _ in range(10))  # the empty gate after the sequence
    idle.close()
    assert idle.read() is None


def test_simulated_frames_are_deterministic() -> None:
    a = phone_frame("SAME", size=SIZE, seed=3)
    assert np.array_equal(a, phone_frame("SAME", size=SIZE, seed=3))
    assert not np.array_equal(a, phone_frame("SAME", size=SIZE, seed=4))
