"""Uploaded pictures are decoded and re-encoded (store/people/images.py): only the pixels survive, upright, within
the limits; anything that is not really a picture is refused whatever it is called."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from support.enroll_world import face_rgb, huge_photo, jpeg, text_renamed_jpg

from store.errors import ValidationError
from store.people.images import MAX_BYTES, MIN_SIDE, STORE_SIDE, sanitise_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110


def exif_jpeg(size: tuple[int, int], orientation: int = 1) -> bytes:
    im = Image.fromarray(face_rgb()).resize(size)
    exif = im.getexif()
    exif[MAKE], exif[MODEL] = "PhoneMaker", "Model-SERIAL-0042"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 13.0, 52.0), 3: "E", 4: (121.0, 28.0, 11.0)})
    return jpeg(im, exif=exif.tobytes(), comment=b"taken at home")


def test_exif_gps_and_comments_are_stripped() -> None:
    raw = exif_jpeg((800, 600))
    assert b"Model-SERIAL-0042" in raw and b"taken at home" in raw
    clean = sanitise_image(raw, field="f")
    out = Image.open(io.BytesIO(clean.jpeg))
    assert (
        out.format == "JPEG"
        and not out.getexif()
        and "comment" not in out.info
        and "icc_profile" not in out.info
    )
    assert b"Exif" not in clean.jpeg and b"SERIAL" not in clean.jpeg and b"taken at home" not in clean.jpeg
    assert (clean.width, clean.height) == out.size == (800, 600)
    assert clean.bgr.shape == (600, 800, 3)


def test_the_phones_orientation_is_applied_before_exif_goes() -> None:
    clean = sanitise_image(exif_jpeg((800, 600), orientation=6), field="f")  # "rotate 90° clockwise to view"
    assert (clean.width, clean.height) == (600, 800)


def test_a_large_photo_is_kept_at_the_stored_size() -> None:
    clean = sanitise_image(jpeg(Image.fromarray(face_rgb()).resize((4000, 3000))), field="f")
    assert max(clean.width, clean.height) == STORE_SIDE and clean.width > clean.height


def test_png_with_transparency_and_webp_are_taken() -> None:
    rgba = np.zeros((300, 300, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[100:200, 100:200, 3] = 255
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    clean = sanitise_image(buf.getvalue(), field="f")
    assert tuple(clean.bgr[10, 10]) == (255, 255, 255)  # transparent is white, not black
    buf = io.BytesIO()
    Image.fromarray(face_rgb()).save(buf, "WEBP")
    assert sanitise_image(buf.getvalue(), field="f").jpeg[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("data", "zh", "en"),
    [
        (text_renamed_jpg(), "不是图片文件", "is not a picture"),
        (b"GIF89a" + b"\0" * 500, "不是图片文件", "is not a picture"),  # a format a phone photo never is
        (b"", "请选择", "choose a photo"),
        (huge_photo(40), "文件太大", "too large"),
    ],
)
def test_what_is_not_a_photo_is_refused(data: bytes, zh: str, en: str) -> None:
    with pytest.raises(ValidationError) as err:
        sanitise_image(data, field="front_image", what=("身份证正面照片", "The ID card front"))
    assert err.value.field == "front_image"
    assert zh in err.value.zh and en in err.value.en
    assert err.value.zh.startswith("身份证正面照片") or err.value.zh.startswith("请选择身份证正面照片")


def test_the_byte_limit_is_checked_before_decoding() -> None:
    with pytest.raises(ValidationError, match="too large"):
        sanitise_image(b"\xff\xd8" + b"\0" * MAX_BYTES, field="f")


def test_a_decompression_bomb_costs_nothing() -> None:
    buf = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buf, "PNG")  # 81 megapixels in a tiny file
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(ValidationError, match="too many pixels"):
        sanitise_image(buf.getvalue(), field="f")


def test_a_cut_off_photo_and_a_tiny_one_are_refused() -> None:
    raw = jpeg(face_rgb())
    with pytest.raises(ValidationError, match="damaged or incomplete"):
        sanitise_image(raw[: len(raw) // 2], field="f")
    with pytest.raises(ValidationError, match="too small"):
        sanitise_image(jpeg(Image.fromarray(face_rgb()).resize((MIN_SIDE - 1, 400))), field="f")


def test_a_service_may_lower_the_size_limit_but_not_raise_it() -> None:
    raw = jpeg(face_rgb())
    with pytest.raises(ValidationError, match=r"at most 0\.0 MB"):
        sanitise_image(raw, field="f", max_bytes=1000)
    with pytest.raises(ValidationError, match="too large"):
        sanitise_image(huge_photo(40), field="f", max_bytes=100 * 1024 * 1024)
