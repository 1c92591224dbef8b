"""Synthetic pictures for the self-enrollment tests: a face (scikit-image's astronaut, a public-domain
NASA photograph), two faces, no face, a made-up ID card, and files that are not pictures at all."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw
from skimage import data


def jpeg(rgb: np.ndarray | Image.Image, **save: object) -> bytes:
    im = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def face_rgb() -> np.ndarray:
    return np.asarray(data.astronaut())


def face_jpeg() -> bytes:
    return jpeg(face_rgb())


def two_faces_jpeg() -> bytes:
    return jpeg(np.hstack([face_rgb(), face_rgb()]))


def no_face_jpeg() -> bytes:
    rng = np.random.default_rng(7)
    return jpeg(rng.integers(90, 160, (480, 640, 3), dtype=np.uint8))


def id_card_jpeg(side: str = "front") -> bytes:
    """A made-up card the size of an ID card at 1000 px (no real person, no real number)."""
    im = Image.new("RGB", (1000, 630), (222, 232, 240))
    d = ImageDraw.Draw(im)
    d.rectangle((20, 20, 980, 610), outline=(90, 110, 140), width=6)
    d.text((60, 60), f"SPECIMEN {side.upper()}", fill=(30, 30, 30))
    for i in range(6):
        d.line((60, 140 + 60 * i, 600, 140 + 60 * i), fill=(60, 60, 60), width=4)
    return jpeg(im)


def text_renamed_jpg() -> bytes:
    """What a text file renamed photo.jpg holds."""
    return "这不是照片 / this is not a photo\n".encode() * 50


def huge_photo(mb: int = 40) -> bytes:
    """A JPEG-looking file of ``mb`` megabytes (a start-of-image marker, then padding)."""
    head = face_jpeg()
    return head + b"\0" * (mb * 1024 * 1024 - len(head))
