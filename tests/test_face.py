"""Face capture: exactly one face, from a video-file source built from scikit-image's astronaut
(a public-domain NASA photograph that scikit-image ships)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from kiosk.camera.face import FaceError, capture_face, capture_from, check_face, grab_still, read_image_file
from kiosk.camera.sources import open_source


def astronaut() -> np.ndarray:
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def blank() -> np.ndarray:
    return np.full((512, 512, 3), 128, np.uint8)


def write_video(path: Path, frames: list[np.ndarray]) -> str:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (w, h))
    assert out.isOpened()
    for f in frames:
        out.write(f)
    out.release()
    return str(path)


def test_one_face_in_a_video_is_captured(tmp_path: Path) -> None:
    video = write_video(tmp_path / "enrol.avi", [blank(), blank(), astronaut(), astronaut()])
    got = capture_from(video, max_frames=10)
    assert got.faces_found == 1
    x, y, w, _h = got.box
    assert 150 < x < 210 and 40 < y < 100 and w > 60  # the astronaut's face, not the background
    assert got.jpeg[:2] == b"\xff\xd8" and got.thumb[:2] == b"\xff\xd8"
    thumb = cv2.imdecode(np.frombuffer(got.thumb, np.uint8), cv2.IMREAD_COLOR)
    assert thumb is not None and thumb.shape == (160, 160, 3)


def test_a_video_with_no_face_is_refused(tmp_path: Path) -> None:
    video = write_video(tmp_path / "empty.avi", [blank()] * 5)
    with pytest.raises(FaceError) as err:
        capture_from(video, max_frames=10)
    assert err.value.faces_found == 0
    assert "未检测到人脸" in err.value.zh and "No face" in err.value.en


def test_two_faces_are_refused() -> None:
    two = np.hstack([astronaut(), astronaut()])
    with pytest.raises(FaceError) as err:
        check_face(two)
    assert err.value.faces_found == 2
    assert "只能有一人" in err.value.zh


def test_capture_stops_at_the_frame_limit(tmp_path: Path) -> None:
    video = write_video(tmp_path / "late.avi", [blank()] * 6 + [astronaut()])
    source = open_source(video)
    try:
        with pytest.raises(FaceError):
            capture_face(source, max_frames=3)
    finally:
        source.close()


def test_id_card_image_from_a_file(tmp_path: Path) -> None:
    png = tmp_path / "front.png"
    cv2.imwrite(str(png), astronaut())
    assert read_image_file(str(png))[:2] == b"\xff\xd8"
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(Exception, match="Cannot read the image"):
        read_image_file(str(tmp_path / "bad.png"))


def test_an_id_card_still_from_a_video(tmp_path: Path) -> None:
    video = write_video(tmp_path / "card.avi", [blank()] * 3 + [astronaut()] * 4)
    jpeg = grab_still(video, skip=3)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (512, 512, 3)
    assert image.std() > 20  # the picture, not a grey settling frame
