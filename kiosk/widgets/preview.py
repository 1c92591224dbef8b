"""The live camera preview (the officer screen's, and the setup wizard's camera step).

``CameraPreview`` shows the half-block strips the camera worker made (``kiosk.widgets.pixels``) and
tells the app how many cells it has, so the worker downscales each frame to exactly that.
``ImagePreview`` shows real pixels with textual-image, for terminals that speak sixel or the terminal
graphics protocol (``terminal_has_images`` asks, before the app starts).
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, cast

from textual import events
from textual.app import ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from kiosk import i18n
from kiosk.widgets.pixels import PixelView


class PreviewHost(Protocol):
    """What the preview widgets read and tell the app they run in (the officer app, or the setup wizard)."""

    lang: str
    #: the preview's size in cells: the camera worker downscales each frame to exactly that
    preview_cells: tuple[int, int]


def preview_host(widget: Widget) -> PreviewHost:
    return cast(PreviewHost, widget.app)


class CameraPreview(PixelView):
    DEFAULT_CSS = "CameraPreview { width: 1fr; height: 1fr; }"

    def render_line(self, y: int) -> Strip:
        self.placeholder = i18n.t("no_picture", preview_host(self).lang)
        return super().render_line(y)

    def on_resize(self, event: events.Resize) -> None:
        self._report_size()

    def on_show(self) -> None:
        self._report_size()

    def _report_size(self) -> None:
        size = self.content_size
        if size.width and size.height:
            preview_host(self).preview_cells = (size.width, size.height)


def terminal_has_images() -> bool:
    """Whether this terminal shows real pixels (sixel or TGP). Asks the terminal: call before the app
    runs. False when not a terminal, or when anything about it fails."""
    out = sys.__stdout__
    if out is None or not out.isatty():
        return False
    try:
        import textual_image.widget  # noqa: F401  (measures the cell size while it still can)
        from textual_image.renderable import Image, SixelImage, TGPImage
    except Exception:
        return False
    return Image in (SixelImage, TGPImage)


class ImagePreview(Widget):
    """The live picture in real pixels (textual-image)."""

    DEFAULT_CSS = """
    ImagePreview { width: 1fr; height: 1fr; align: center middle; }
    ImagePreview > Image { width: auto; height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        from textual_image.widget import Image

        yield Image(None)

    def show_picture(self, picture: Any) -> None:
        from textual_image.widget import Image

        self.query_one(Image).image = picture

    def on_resize(self, event: events.Resize) -> None:
        size = self.content_size
        if size.width and size.height:
            preview_host(self).preview_cells = (size.width, size.height)
