"""Issue 27: what one upload may cost the service (store/people/images.py). A progressive JPEG with
thousands of scans is refused before decoding; decodes share one pixel budget (a 50 MP picture waits for
another); out of memory is named as such, never "damaged photo"; a blurred photo is measured as such on
the enrollment test pictures (the thresholds' figures)."""

from __future__ import annotations

import io
import threading
import time

import cv2
import numpy as np
import pytest
from PIL import Image
from support.enroll_world import face_jpeg, id_card_jpeg
from support.upload_bombs import png_bomb, scan_bomb

from store.errors import ValidationError
from store.people import images
from store.people.images import (
    MAX_SCANS,
    MIN_SHARPNESS,
    SHARP_SIDE,
    ImageBusy,
    _Budget,
    jpeg_scans,
    require_sharp,
    sanitise_image,
    sharpness,
)


def test_a_scan_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = scan_bomb(6000)
    assert jpeg_scans(bomb) == 6000 and len(bomb) < 1_000_000
    cpu = time.process_time()
    with pytest.raises(ValidationError) as err:
        sanitise_image(bomb, field="front_image")
    assert time.process_time() - cpu < 1.0
    assert "too many scans" in err.value.en and "扫描段过多" in err.value.zh


def test_a_phone_s_progressive_jpeg_is_taken() -> None:
    out = io.BytesIO()
    Image.open(io.BytesIO(face_jpeg())).save(out, "JPEG", progressive=True, quality=90)
    assert 1 < jpeg_scans(out.getvalue()) <= MAX_SCANS
    assert sanitise_image(out.getvalue(), field="face_photo").width == 512


def test_decodes_share_one_pixel_budget() -> None:
    budget = _Budget(100)
    busy = ImageBusy("photo", "忙", "busy")
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with budget.reserve(80, busy):
            order.append("first in")
            inside.set()
            release.wait(10)
            order.append("first out")  # still inside: the budget is given back only after this

    def second() -> None:
        with budget.reserve(80, busy):
            order.append("second in")

    t1 = threading.Thread(target=first)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    t2.join(0.2)
    assert t2.is_alive() and order == ["first in"]  # waits for its turn
    release.set()
    t1.join(10)
    t2.join(10)
    assert order == ["first in", "first out", "second in"] and budget.used == 0
    # a turn that does not come in time is "busy", not a hang
    with budget.reserve(100, busy), pytest.raises(ImageBusy), budget.reserve(1, busy, wait_s=0.05):
        pass


def test_out_of_memory_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memory(im: Image.Image) -> Image.Image:
        raise MemoryError

    monkeypatch.setattr(images, "_decode_small", no_memory)
    with pytest.raises(ImageBusy) as err:
        sanitise_image(face_jpeg(), field="face_photo")
    assert "out of memory" in err.value.en and "内存不足" in err.value.zh
    assert "damaged" not in err.value.en


def test_a_50_megapixel_png_is_shrunk_to_what_is_kept() -> None:
    bomb = png_bomb()
    assert len(bomb) < 400_000
    clean = sanitise_image(bomb, field="report_image")
    assert max(clean.width, clean.height) == images.STORE_SIDE and images.BUDGET.used == 0


def _bgr(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("picture", [face_jpeg(), id_card_jpeg("front"), id_card_jpeg("back")])
def test_sharp_and_blurred_enrollment_pictures(picture: bytes) -> None:
    """The figures MIN_SHARPNESS was tuned on: sharp ≥ 600, blurred by σ 2 px at SHARP_SIDE ≤ 80, σ 3 px ≤ 30."""
    bgr = _bgr(picture)
    scale = SHARP_SIDE / max(bgr.shape[:2])
    assert sharpness(bgr) >= 600
    for sigma_at_sharp_side, at_most in ((2.0, 80.0), (3.0, 30.0)):
        soft = cv2.GaussianBlur(bgr, (0, 0), sigma_at_sharp_side / min(scale, 1.0))
        assert sharpness(soft) <= at_most, sigma_at_sharp_side
        with pytest.raises(ValidationError, match="blurred"):
            require_sharp(
                images.CleanImage(b"", bgr.shape[1], bgr.shape[0], soft),
                field="x",
                what=("照片", "The photo"),
            )
    assert MIN_SHARPNESS > 30
