"""QR codes of personal codes decode back to the same token: images (normal and dark mode) and the
half-block terminal drawing, with zxing-cpp and pyzbar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageOps
from pyzbar import pyzbar

from kiosk.qr_terminal import make_qr, qr_image, qr_lines, qr_version, save_png
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import QR_VERSION_WITH_PROJECT, QR_VERSION_WORKER, issue_code
from store.reasons import Role

T0 = datetime(2026, 3, 2, 6, 55, tzinfo=UTC)
KEY = IssuerPrivateKey.generate()
TOKENS = {
    "worker": issue_code(KEY, role=Role.WORKER, subject=uuid.uuid4(), at=T0),
    "officer": issue_code(KEY, role=Role.OFFICER, subject=uuid.uuid4(), project=uuid.uuid4(), at=T0),
}


def zxing(img: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(
        img,
        formats=zxingcpp.BarcodeFormat.QRCode,
        text_mode=zxingcpp.TextMode.Plain,  # type: ignore[arg-type]
    )
    return [r.text for r in found]


def zbar(img: Image.Image) -> list[str]:
    return [d.data.decode("ascii") for d in pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])]


def test_versions_and_alphanumeric_mode() -> None:
    assert qr_version(TOKENS["worker"]) == QR_VERSION_WORKER == 6
    assert qr_version(TOKENS["officer"]) == QR_VERSION_WITH_PROJECT == 7
    for token in TOKENS.values():
        qr = make_qr(token)
        assert [chunk.mode for chunk in qr.data_list] == [2]  # qrcode.util.MODE_ALPHA_NUM: one chunk
        assert qr.error_correction == 0  # ERROR_CORRECT_M


@pytest.mark.parametrize("kind", sorted(TOKENS))
@pytest.mark.parametrize("scale", [3, 8])
def test_image_decodes_normal_and_inverted(kind: str, scale: int) -> None:
    token = TOKENS[kind]
    normal = qr_image(token, scale=scale)
    dark_mode = qr_image(token, scale=scale, invert=True)
    assert zxing(normal) == [token]
    assert zxing(dark_mode) == [token]  # zxing-cpp reads inverted symbols itself
    assert zbar(normal) == [token]
    assert zbar(dark_mode) == []  # zbar cannot: a decoder chain gives it the inverted frame
    assert zbar(ImageOps.invert(dark_mode)) == [token]


def test_png_file(tmp_path: Path) -> None:
    path = save_png(TOKENS["worker"], tmp_path / "code.png")
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert zxing(img) == [TOKENS["worker"]] and zbar(img) == [TOKENS["worker"]]


def render_half_blocks(lines: list[str], *, ink_is_dark: bool, px: int = 4) -> Image.Image:
    """What a screen shows: each character is a cell of two square pixels stacked (top, bottom)."""
    top = {" ": False, "▀": True, "▄": False, "█": True}
    bottom = {" ": False, "▀": False, "▄": True, "█": True}
    rows = []
    for line in lines:
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    ink = np.array(rows, dtype=bool)
    grey = np.where(ink == ink_is_dark, 0, 255).astype(np.uint8)  # ink dark on light, or light on dark
    big = np.kron(grey, np.ones((px, px), dtype=np.uint8))
    return Image.fromarray(big, mode="L")


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_terminal_drawing_decodes(kind: str) -> None:
    token = TOKENS[kind]
    lines = qr_lines(token)
    modules = len(make_qr(token, border=2).get_matrix())
    assert len(lines) == (modules + 1) // 2 and {len(line) for line in lines} == {modules}
    assert set("".join(lines)) <= set(" ▀▄█")
    # default: characters are the dark modules, shown dark on light
    shown = render_half_blocks(lines, ink_is_dark=True)
    assert zxing(shown) == [token] and zbar(shown) == [token]
    # invert=True: characters are the light modules, shown light on a dark terminal
    shown = render_half_blocks(qr_lines(token, invert=True), ink_is_dark=False)
    assert zxing(shown) == [token] and zbar(shown) == [token]


def test_border_is_quiet_zone() -> None:
    lines = qr_lines(TOKENS["worker"], border=3)
    assert lines[0].strip() == "" and all(line[:3] == "   " and line[-3:] == "   " for line in lines)
    assert set(qr_lines(TOKENS["worker"], invert=True)[0]) == {"█"}
