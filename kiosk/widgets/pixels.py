"""Pictures in a terminal: camera frames and enrolled photos as half-block pixels.

Each cell shows two pixels, one above the other: "▀" with the upper pixel as foreground colour and the
lower as background. ``fit`` downscales a BGR frame to the cells available (keeping its aspect ratio;
a terminal cell is about twice as tall as wide) and draws the outline of the detected code on it;
``halfblock_strips`` turns the small RGB picture into Textual ``Strip``s. Both run in the camera's worker
thread, so the UI thread only swaps lines.

``PixelView`` shows the strips, centred, or a short text when there is no picture. OpenCV and numpy are
imported by ``fit`` and ``halfblock_strips``, not by the widget: a screen using it starts without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    import numpy as np

Points = Sequence[tuple[int, int]]

#: outline colours (BGR) of a detected code: green, amber, red, and white while checking
OUTLINE_BGR = {
    "ok": (80, 200, 60),
    "already": (0, 170, 240),
    "refused": (40, 40, 220),
    "seen": (255, 255, 255),
}


def fit(image: np.ndarray, cols: int, rows: int, *, outline: Points = (), kind: str = "seen") -> np.ndarray:
    """``image`` (BGR) scaled into ``cols`` × ``2*rows`` pixels, aspect kept, as RGB; code outlined."""
    # OpenCV and numpy are imported where the pixels are made (the camera's worker), not with the widget:
    # the officer screen is drawn before they load (issue 29). Loaded once, these are dictionary look-ups.
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    cols, rows = max(cols, 1), max(rows, 1)
    scale = min(cols / w, 2 * rows / h)
    nw, nh = max(1, round(w * scale)), max(2, round(h * scale) // 2 * 2)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    if len(outline) >= 2:
        pts = np.array([[round(x * scale), round(y * scale)] for x, y in outline], dtype=np.int32)
        cv2.polylines(
            small, [pts], isClosed=True, color=OUTLINE_BGR.get(kind, OUTLINE_BGR["seen"]), thickness=1
        )
    return np.ascontiguousarray(small[:, :, ::-1])


def halfblock_strips(rgb: np.ndarray) -> list[Strip]:
    """One Strip per pair of pixel rows (an odd last row is paired with black)."""
    import numpy as np  # with the pixels, not the widget: see fit

    h, w = rgb.shape[:2]
    if h % 2:
        rgb = np.vstack([rgb, np.zeros((1, w, 3), dtype=rgb.dtype)])
    rows = rgb.reshape(-1, 2, w, 3).tolist()
    strips: list[Strip] = []
    cache: dict[tuple[int, int, int, int, int, int], Style] = {}
    for top, bottom in rows:
        segs: list[Segment] = []
        for (r1, g1, b1), (r2, g2, b2) in zip(top, bottom, strict=True):
            key = (r1 >> 3, g1 >> 3, b1 >> 3, r2 >> 3, g2 >> 3, b2 >> 3)
            style = cache.get(key)
            if style is None:
                style = cache[key] = Style.parse(f"#{r1:02x}{g1:02x}{b1:02x} on #{r2:02x}{g2:02x}{b2:02x}")
            segs.append(Segment("▀", style))
        strips.append(Strip(segs, w))
    return strips


class PixelView(Widget):
    """Half-block pixels, centred in the widget; ``placeholder`` when there are none."""

    DEFAULT_CSS = """
    PixelView { width: 1fr; height: 1fr; }
    """

    def __init__(self, placeholder: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._strips: list[Strip] = []
        self._width = 0
        self.placeholder = placeholder

    @property
    def has_picture(self) -> bool:
        return bool(self._strips)

    def show(self, strips: list[Strip]) -> None:
        self._strips = strips
        self._width = max((s.cell_length for s in strips), default=0)
        self.refresh()

    def show_image(self, image: np.ndarray) -> None:
        """Show a BGR image (small ones only: this runs on the UI thread)."""
        size = self.content_size
        self.show(halfblock_strips(fit(image, size.width or 20, size.height or 10)))

    def clear(self) -> None:
        self._strips = []
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if not self._strips:
            if y == height // 2 and self.placeholder:
                pad = max(0, (width - cell_len(self.placeholder)) // 2)
                strip = Strip([Segment(" " * pad), Segment(self.placeholder, Style(dim=True))])
                return strip.crop(0, width).extend_cell_length(width)
            return Strip.blank(width)
        top = max(0, (height - len(self._strips)) // 2)
        i = y - top
        if 0 <= i < len(self._strips):
            left = max(0, (width - self._width) // 2)
            return Strip([Segment(" " * left), *self._strips[i]]).crop(0, width).extend_cell_length(width)
        return Strip.blank(width)
