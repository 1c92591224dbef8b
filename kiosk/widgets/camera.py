"""The live camera preview and the scanner field.

``CameraPreview`` shows the half-block strips the camera worker made (``kiosk.widgets.pixels``) and
tells the app how many cells it has, so the worker downscales each frame to exactly that.
``ScannerInput`` is where a USB keyboard-wedge scanner types its code and presses Enter; it keeps the
focus and masks what it receives (a code is never shown on screen).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from kiosk import i18n
from kiosk.widgets.pixels import PixelView


class CameraPreview(PixelView):
    DEFAULT_CSS = "CameraPreview { width: 1fr; height: 1fr; }"

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        self.placeholder = i18n.t("no_picture", str(getattr(self.app, "lang", "zh")))
        return super().render_line(y)

    def on_resize(self, event: events.Resize) -> None:
        self._report_size()

    def on_show(self) -> None:
        self._report_size()

    def _report_size(self) -> None:
        size = self.content_size
        if size.width and size.height:
            self.app.preview_cells = (size.width, size.height)  # type: ignore[attr-defined]


class ScannerInput(Input):
    DEFAULT_CSS = "ScannerInput { height: 1; border: none; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(password=True, id=id)
        self.cursor_blink = False

    def relabel(self, lang: str) -> None:
        self.placeholder = i18n.t("scanner", lang)
