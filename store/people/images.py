"""Images people upload from a phone (ID card photos, face photos, health-check reports): decoded and
re-encoded on the server before anything keeps them.

``sanitise_image(data, what=...)`` returns a ``CleanImage``: a fresh baseline JPEG of the picture's
pixels only, turned upright, at most ``STORE_SIDE`` pixels on its long side. A file that is not really
a JPEG, PNG or WebP picture is refused whatever its name or declared type says (the file name is never
looked at); so is one above ``MAX_BYTES``, above ``MAX_PIXELS`` or ``MAX_SIDE``, below ``MIN_SIDE``, or
cut short. Nothing of the original file survives but its pixels: no EXIF (with the phone's GPS position
and its serial number), no XMP, no ICC profile, no comments, no thumbnails, no trailing bytes.

Why Pillow (already here through ``qrcode[pil]``), not OpenCV's ``imdecode``: Pillow reads the header
first, so the format and the pixel size are known before a single pixel is decoded (a small
"decompression bomb" file that claims 40 000 × 40 000 pixels costs nothing); ``Image.open(formats=…)``
lets only the three decoders a phone needs run (OpenCV tries every codec it was built with: TIFF,
JPEG 2000, OpenEXR, HDR…); ``draft`` decodes a large JPEG directly at a fraction of its size, and
``ImageOps.exif_transpose`` applies the orientation a phone writes into EXIF before EXIF is dropped.
It is maintained by a large team with regular security releases.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from store.errors import ValidationError

#: the largest file accepted: a 50-megapixel phone photo is 10–20 MB
MAX_BYTES = 20 * 1024 * 1024
#: the most pixels a picture may claim (the full resolution of the largest phone cameras)
MAX_PIXELS = 50_000_000
MAX_SIDE = 12_000
#: smaller than this is no photo of an ID card or a face anyone could check
MIN_SIDE = 200
#: what is kept: enough to read an ID card and compare a face, small enough for the database
STORE_SIDE = 1600
JPEG_QUALITY = 85
FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass(frozen=True, slots=True)
class CleanImage:
    """A re-encoded picture: the JPEG to keep, and its pixels (BGR, as OpenCV and the face detector want)."""

    jpeg: bytes
    width: int
    height: int
    bgr: np.ndarray


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}"


def sanitise_image(
    data: bytes | None,
    *,
    field: str,
    what: tuple[str, str] = ("照片", "The photo"),
    max_bytes: int = MAX_BYTES,
) -> CleanImage:
    """The picture in ``data`` decoded and re-encoded, or a ValidationError on ``field`` saying why not.

    ``what`` names the picture in the message, e.g. ``("身份证正面照片", "The ID card front photo")``;
    ``max_bytes`` may lower the size limit (a service's upload limit), never raise it."""
    max_bytes = min(max_bytes, MAX_BYTES)
    zh, en = what
    if not data:
        raise ValidationError(field, f"请选择{zh}", f"{en}: choose a photo")
    if len(data) > max_bytes:
        raise ValidationError(
            field,
            f"{zh}文件太大（{_mb(len(data))} MB），最大 {_mb(max_bytes)} MB，请用手机相机重新拍摄",
            f"{en} is too large ({_mb(len(data))} MB; at most {_mb(max_bytes)} MB): take it again with the camera",
        )
    not_image = ValidationError(
        field,
        f"{zh}不是图片文件，只能上传 JPG、PNG 或 WebP 照片",
        f"{en} is not a picture: upload a JPG, PNG or WebP photo",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many(field, zh, en, "") from exc
    except UnidentifiedImageError as exc:
        raise not_image from exc
    except Exception as exc:  # a header Pillow rejects in its own way: still not a picture we take
        raise not_image from exc
    with im:
        w, h = im.size
        if w * h > MAX_PIXELS or max(w, h) > MAX_SIDE:
            raise _too_many(field, zh, en, f"{w}×{h}")
        if min(w, h) < MIN_SIDE:
            raise ValidationError(
                field,
                f"{zh}太小（{w}×{h}），至少 {MIN_SIDE}×{MIN_SIDE} 像素，请看清后重新拍摄",
                f"{en} is too small ({w}×{h}; at least {MIN_SIDE}×{MIN_SIDE} pixels): take it again",
            )
        try:
            if im.format == "JPEG":
                im.draft(
                    "RGB", (STORE_SIDE, STORE_SIDE)
                )  # decode at 1/2, 1/4, 1/8 where that is still enough
            im.seek(0)  # an animated PNG or WebP: its first frame
            im.load()
            upright = ImageOps.exif_transpose(im)
            rgb = _rgb(upright)
        except Exception as exc:  # truncated, corrupt, or a decoder error
            raise ValidationError(
                field, f"{zh}文件已损坏或不完整，请重新拍摄", f"{en} is damaged or incomplete: take it again"
            ) from exc
    rgb.thumbnail((STORE_SIDE, STORE_SIDE), Image.Resampling.LANCZOS)
    # a fresh image from the pixels alone: no info dict (EXIF, ICC, comments, XMP) can follow it out
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    pixels = np.asarray(clean)[:, :, ::-1].copy()  # RGB → BGR
    return CleanImage(jpeg=out.getvalue(), width=clean.width, height=clean.height, bgr=pixels)


def _too_many(field: str, zh: str, en: str, size: str) -> ValidationError:
    return ValidationError(
        field,
        f"{zh}像素太多{f'（{size}）' if size else ''}，最多 {MAX_PIXELS // 10_000} 万像素",
        f"{en} has too many pixels{f' ({size})' if size else ''}: at most {MAX_PIXELS // 1_000_000} megapixels",
    )


def _rgb(im: Image.Image) -> Image.Image:
    """Any mode as RGB; transparency over white (a screenshot or a PNG with alpha)."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return im.convert("RGB")
