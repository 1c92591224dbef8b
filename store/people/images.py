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
the orientation a phone writes into EXIF is applied (to the shrunk picture) before EXIF is dropped.
It is maintained by a large team with regular security releases.

What one upload may cost the service (issue 27), checked before a pixel is decoded:

- a JPEG with more than ``MAX_SCANS`` start-of-scan markers is refused (a progressive JPEG re-decodes the
  whole picture once per scan: 6 000 repeated scans cost 25 s of CPU; a phone writes 1 to 12);
- the pixels a decode will allocate (after ``draft``) are reserved from ``DECODE_BUDGET``, one budget for
  the whole process, so every caller (each route that decodes) is capped together: at most one 50 MP
  picture at a time, or several small ones; a caller waits up to ``BUDGET_WAIT_S`` for its turn, then
  gets ``ImageBusy`` ("the service is busy, try again");
- out of memory while decoding is ``ImageBusy`` too, named as such — never "damaged photo";
- the memory a burst took is given back to the system: large buffers are mmapped (``mallopt``) and the
  heap is trimmed (``malloc_trim``) whenever the last decode of a burst ends.

``sharpness(bgr)`` is the variance of the Laplacian of the picture in grey at ``SHARP_SIDE`` pixels on its
long side: the callers refuse an ID card or face photo below ``MIN_SHARPNESS`` with a retake message.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

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
#: start-of-scan markers a JPEG may hold: a phone writes 1 (baseline) to about 12 (progressive)
MAX_SCANS = 100
#: pixels decoding at once in this process, all callers together (one 50 MP photo, or several smaller)
DECODE_BUDGET = MAX_PIXELS
#: how long an upload waits for its turn to decode before it is told the service is busy
BUDGET_WAIT_S = 60.0
#: the sharpness measure's normalised size (long side, pixels) and the least a kept photo may have; tuned
#: on the enrollment test pictures (tests/support/enroll_world.py: the face, the ID card front and back):
#: sharp they measure 620–870; blurred by a Gaussian of σ 1.6–2 px (a shaken or unfocused phone) 29–77,
#: of σ 3 px 5–20 (tests/test_images.py holds these figures)
SHARP_SIDE = 800
MIN_SHARPNESS = 60.0


class ImageBusy(ValidationError):
    """The service cannot decode the picture now (out of memory, or too many at once): not the photo's
    fault; the caller answers 503 and the worker tries again."""


class _Budget:
    """Pixels being decoded in this process; a decode reserves its pixels before it allocates them."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self.cond = threading.Condition()

    @contextmanager
    def reserve(self, pixels: int, busy: ImageBusy, wait_s: float = BUDGET_WAIT_S) -> Iterator[None]:
        need = min(pixels, self.total)
        deadline = time.monotonic() + wait_s
        with self.cond:
            while self.used and self.used + need > self.total:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise busy
                self.cond.wait(left)
            self.used += need
        try:
            yield
        finally:
            with self.cond:
                self.used -= need
                last = self.used == 0
                self.cond.notify_all()
            if last:
                give_back_memory()


BUDGET = _Budget(DECODE_BUDGET)
_LIBC: ctypes.CDLL | None = None
_LIBC_READY = False


def _libc() -> ctypes.CDLL | None:
    """glibc, with large buffers set to be mmapped (freed straight back to the system); None elsewhere."""
    global _LIBC, _LIBC_READY
    if not _LIBC_READY:
        _LIBC_READY = True
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            lib.mallopt(-3, 1024 * 1024)  # M_MMAP_THRESHOLD: fixed at 1 MB (no dynamic growth)
            lib.malloc_trim  # noqa: B018 - glibc only: raises AttributeError elsewhere
            _LIBC = lib
        except (OSError, AttributeError):
            _LIBC = None
    return _LIBC


def give_back_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``); nothing elsewhere."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)


def jpeg_scans(data: bytes) -> int:
    """How many start-of-scan markers (FF DA) a JPEG holds: inside entropy-coded data every FF byte is
    followed by 00, so each FF DA is a marker (an EXIF thumbnail's own scans count too, harmlessly)."""
    return data.count(b"\xff\xda")


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
        if im.format == "JPEG" and jpeg_scans(data) > MAX_SCANS:
            raise ValidationError(
                field,
                f"{zh}的编码异常（扫描段过多），请用手机相机重新拍摄",
                f"{en} is encoded abnormally (too many scans): take it again with the camera",
            )
        busy = ImageBusy(
            field,
            "服务器正忙（内存不足），暂时无法处理照片，请稍后再提交",
            "The service is busy (out of memory) and cannot take the photo now: submit again in a minute",
        )
        if im.format == "JPEG":
            im.draft("RGB", (STORE_SIDE, STORE_SIDE))  # decode at 1/2, 1/4, 1/8 where that is still enough
        dw, dh = im.size
        try:
            with BUDGET.reserve(dw * dh, busy):
                rgb = _decode_small(im)
        except ImageBusy:
            raise
        except MemoryError as exc:
            give_back_memory()
            raise busy from exc
        except Exception as exc:  # truncated, corrupt, or a decoder error
            raise ValidationError(
                field, f"{zh}文件已损坏或不完整，请重新拍摄", f"{en} is damaged or incomplete: take it again"
            ) from exc
    # a fresh image from the pixels alone: no info dict (EXIF, ICC, comments, XMP) can follow it out
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    pixels = np.asarray(clean)[:, :, ::-1].copy()  # RGB → BGR
    return CleanImage(jpeg=out.getvalue(), width=clean.width, height=clean.height, bgr=pixels)


def _decode_small(im: Image.Image) -> Image.Image:
    """The picture decoded and shrunk to ``STORE_SIDE`` in place (the one large buffer is the decoder's
    own, freed before the small copy is made RGB), then turned upright as its EXIF says."""
    im.seek(0)  # an animated PNG or WebP: its first frame
    orientation = im.getexif().get(0x0112, 1)
    im.load()
    work = im
    if im.mode in ("P", "1"):  # a palette (maybe with a transparent colour): over white below
        work = im.convert("RGBA")
    elif im.mode not in ("RGB", "RGBA", "L", "LA"):
        work = im.convert("RGB")
    if work is not im:
        im.close()  # the full-size pixels go now, not when the request ends
    work.thumbnail((STORE_SIDE, STORE_SIDE), Image.Resampling.LANCZOS)
    turn = _ORIENTATION.get(orientation)
    return _rgb(work.transpose(turn) if turn is not None else work)


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def sharpness(bgr: np.ndarray) -> float:
    """The variance of the Laplacian of ``bgr`` in grey at ``SHARP_SIDE`` pixels on the long side: low
    when the photo is blurred (shaken, out of focus), whatever its size."""
    import cv2

    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    scale = SHARP_SIDE / max(h, w)
    if scale < 1:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def require_sharp(clean: CleanImage, *, field: str, what: tuple[str, str]) -> None:
    """A ValidationError asking for a retake when the photo is too blurred to read or compare."""
    if sharpness(clean.bgr) < MIN_SHARPNESS:
        zh, en = what
        raise ValidationError(
            field,
            f"{zh}太模糊，请对准、拿稳、光线充足后重新拍摄",
            f"{en} is blurred: hold the phone still, in good light, and take it again",
        )


def _too_many(field: str, zh: str, en: str, size: str) -> ValidationError:
    return ValidationError(
        field,
        f"{zh}像素太多{f'（{size}）' if size else ''}，最多 {MAX_PIXELS // 10_000} 万像素",
        f"{en} has too many pixels{f' ({size})' if size else ''}: at most {MAX_PIXELS // 1_000_000} megapixels",
    )


def _rgb(im: Image.Image) -> Image.Image:
    """Any mode as RGB; transparency over white (a screenshot or a PNG with alpha)."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return im.convert("RGB")
