"""A token as a server-rendered SVG QR: black modules on white, a four-module quiet zone, one path.

The symbol comes from zxing-cpp's writer (already our reader; error correction M, alphanumeric mode,
so version 6 for a worker's code and 7 for an officer's, as ``kiosk.qr_terminal`` draws them): about
1 ms a code, where the pure-Python ``qrcode`` takes 13 ms choosing its mask, and a phone service signs
and draws a code for every worker every two minutes. One ``<path>`` of row runs with
``shape-rendering="crispEdges"``: sharp at any screen density, a few kilobytes, no inline style (the
CSP allows none).
"""

from __future__ import annotations

from html import escape

import numpy as np
import zxingcpp

QUIET = 4


def qr_modules(text: str) -> np.ndarray:
    """The QR symbol of ``text`` (error correction M) as a boolean matrix, True = dark, no quiet zone."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def qr_svg(text: str, *, label: str = "QR") -> str:
    m = qr_modules(text)
    n = m.shape[0] + 2 * QUIET
    padded = np.zeros((m.shape[0], m.shape[1] + 2), np.int8)
    padded[:, 1:-1] = m
    rows, cols = np.nonzero(np.diff(padded, axis=1))  # row-major: each run's start, then its end
    ys, xs, lens = (
        (rows[0::2] + QUIET).tolist(),
        (cols[0::2] + QUIET).tolist(),
        (cols[1::2] - cols[0::2]).tolist(),
    )
    parts = [f"M{x} {y}h{w}v1h-{w}z" for x, y, w in zip(xs, ys, lens, strict=True)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" class="qr" role="img" '
        f'aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>'
    )
