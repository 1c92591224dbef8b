"""The locked screen: the live picture, and "officer: show your own code to unlock" (with the app's
``unlock_note`` under it: why the last code did not unlock, or why the kiosk locked)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kiosk.officer.screens import KioskScreen, preview_widget
from kiosk.officer.widgets import Tr
from kiosk.officer.widgets.scanner import ScannerInput
from kiosk.officer.widgets.status import CameraStatus, Clock, KeyBar, SyncStatus
from store.timeutil import DEFAULT_ZONE

LOCKED_KEYS = [("F1", "k_help"), ("F4", "k_lang"), ("^Q", "k_quit")]


class LockedScreen(KioskScreen):
    def __init__(self, *, tz: str = DEFAULT_ZONE, name: str | None = None) -> None:
        super().__init__(name=name)
        self.tz = tz

    # The header as on the officer screen: each screen composes its own widgets (Textual).
    def compose(self) -> ComposeResult:
        with Horizontal(id="header"):
            yield Tr("title", id="title")
            yield Tr("demo", id="demo-badge", classes="-hidden")
            yield Clock(tz=self.tz, id="clock")
        with Horizontal(id="locked-body"):
            with Vertical(id="locked-left"):
                yield preview_widget(self.kiosk)
                yield CameraStatus(id="camera-state")
            with Vertical(id="locked-right"):
                yield Tr("locked", id="locked-title")
                yield Tr("unlock_prompt", id="unlock-prompt")
                yield Static("", id="unlock-message", markup=False)
                yield SyncStatus(tz=self.tz, id="sync-state")
        yield ScannerInput(id="scanner")
        yield KeyBar(LOCKED_KEYS, id="keys")

    def on_mount(self) -> None:
        self.query_one("#demo-badge").set_class(not self.kiosk.demo, "-hidden")
        self.watch(self.app, "unlock_note", self._note, init=False)

    def _note(self, note: tuple[str, str]) -> None:
        text, kind = note
        self.show_message(text, kind=kind)

    def show_message(self, text: str, *, kind: str = "") -> None:
        """A line under the prompt: why the last code did not unlock, or "checking…"."""
        msg = self.query_one("#unlock-message", Static)
        msg.update(text)
        for k in ("refused", "info"):
            msg.set_class(k == kind, f"-{k}")
