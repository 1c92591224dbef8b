"""QR codes of personal codes: as half-block text for a terminal, and as images.

A terminal cell is about twice as tall as it is wide, so each text row shows two module rows with the
half-block characters ``▀ ▄ █`` and a space: modules come out square, and a phone or webcam reads the
code off the screen (``kiosk code phone``, the officer's code of way A).

Colours: with ``invert=False`` (default) the characters draw the *dark* modules — show the lines dark
on light (Textual: ``color: black; background: white``, which is what every widget here does, so the
code reads the same whatever the terminal's theme). With ``invert=True`` the characters draw the light
modules, for printing unstyled on a terminal with light text on a dark background.

Every QR here is made at error correction M with ``qrcode``'s best fit; our tokens are QR alphanumeric
text, so they come out as version 6 (worker) or 7 (officer naming a project) — see store/codes/tokens.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
from qrcode.constants import ERROR_CORRECT_M

if TYPE_CHECKING:
    from PIL.Image import Image

#: (top dark, bottom dark) → character, when the characters draw dark modules
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def make_qr(text: str, *, border: int = 2) -> qrcode.QRCode:
    """The QR symbol of ``text`` at error correction M, smallest version that fits."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def qr_version(text: str) -> int:
    return int(make_qr(text).version)


def qr_matrix(text: str, *, border: int = 2) -> list[list[bool]]:
    """Rows of modules, True = dark, with ``border`` light modules around."""
    return [list(map(bool, row)) for row in make_qr(text, border=border).get_matrix()]


def qr_lines(text: str, *, invert: bool = False, border: int = 2) -> list[str]:
    """Half-block rows of the QR of ``text``, for Rich/Textual ``Static`` (see the module doc)."""
    matrix = qr_matrix(text, border=border)
    width = len(matrix[0])
    if len(matrix) % 2:
        matrix.append([False] * width)  # the last half row is quiet zone
    lines = []
    for top, bottom in zip(matrix[0::2], matrix[1::2], strict=True):
        lines.append("".join(_HALF[(t != invert, b != invert)] for t, b in zip(top, bottom, strict=True)))
    return lines


def qr_image(text: str, *, scale: int = 8, border: int = 4, invert: bool = False) -> Image:
    """A black-on-white PIL image (white on black with ``invert``: a phone in dark mode)."""
    from PIL import ImageOps

    img = make_qr(text, border=border)
    img.box_size = scale
    pil = img.make_image(fill_color="black", back_color="white").get_image().convert("L")
    return ImageOps.invert(pil) if invert else pil


def save_png(text: str, path: str | Path, *, scale: int = 8, border: int = 4) -> Path:
    """Write the QR of ``text`` as a PNG (quiet zone of ``border`` modules, ``scale`` pixels a module)."""
    path = Path(path).expanduser()
    qr_image(text, scale=scale, border=border).save(path, format="PNG")
    return path
