"""The officer's screens: locked, officer (signing in), and the dialogs (project, help, quit).

The screens follow the app's reactive state (``KioskApp``'s ``lang``, ``camera_state``, ``counts``,
``sync_view``, ``session``, ``recent``, ``shown``, ``picture``, ``unlock_note``) by watching it; the app never
queries their widgets. They read the app through ``kiosk_app`` (an ``OfficerView``), never ``getattr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.widget import Widget

from kiosk.officer.widgets import OfficerView, kiosk_app
from kiosk.officer.widgets.scanner import ScannerInput
from kiosk.widgets.preview import CameraPreview, ImagePreview

if TYPE_CHECKING:
    from kiosk.officer.messages import Preview


def preview_widget(app: OfficerView) -> Widget:
    """The live picture: real pixels where the terminal has them, half-blocks otherwise."""
    return ImagePreview(id="preview") if app.image_preview else CameraPreview(id="preview")


class KioskScreen(Screen[None]):
    """A full screen of the kiosk: shows the app's camera ``picture`` and keeps the scanner field focused."""

    @property
    def kiosk(self) -> OfficerView:
        return kiosk_app(self)

    def on_mount(self) -> None:
        self.watch(self.app, "picture", self._picture, init=False)

    def _picture(self, preview: Preview | None) -> None:
        """A new picture of the camera, on this screen's preview while it is in the app's screen stack
        (showing, or under a dialog)."""
        if preview is None or self not in self.app.screen_stack:
            return
        if preview.picture is not None:
            for picture in self.query(ImagePreview):
                picture.show_picture(preview.picture)
        else:
            for view in self.query(CameraPreview):
                view.show(preview.strips)

    def on_screen_resume(self) -> None:
        """Back on screen: the scanner field has the focus (the widgets follow the app's state)."""
        for inp in self.query(ScannerInput):
            inp.focus()
