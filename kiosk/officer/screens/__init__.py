"""The officer's screens: locked, officer (signing in), and the dialogs (project, help, quit)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widget import Widget

from kiosk.officer.widgets import Localized
from kiosk.officer.widgets.camera import CameraPreview, ImagePreview, ScannerInput
from kiosk.officer.widgets.status import CameraStatus, Counters, Counts, SyncStatus, SyncView


def preview_widget(app: Any) -> Widget:
    """The live picture: real pixels where the terminal has them, half-blocks otherwise."""
    return ImagePreview(id="preview") if getattr(app, "image_preview", False) else CameraPreview(id="preview")


class KioskScreen(Screen[None]):
    """A full screen of the kiosk: keeps the scanner field focused and follows the language."""

    def relabel(self) -> None:
        lang = str(getattr(self.app, "lang", "zh"))
        for w in self.query(Localized):
            w.refresh(layout=True)
        for inp in self.query(ScannerInput):
            inp.relabel(lang)

    def on_screen_resume(self) -> None:
        """Back on screen: catch up with the app's state (it changed while another screen showed)."""
        app = self.app
        for cam in self.query(CameraStatus):
            cam.set_state(getattr(app, "camera_state", "none"))
        for counters in self.query(Counters):
            counters.set_counts(getattr(app, "counts", Counts()))
        for sync in self.query(SyncStatus):
            sync.set_view(getattr(app, "sync_view", SyncView()))
        self.relabel()
        for inp in self.query(ScannerInput):
            inp.focus()
