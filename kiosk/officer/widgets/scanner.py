"""The scanner field: where a USB keyboard-wedge scanner types its code and presses Enter. It keeps the
focus and masks what it receives (a code is never shown on screen)."""

from __future__ import annotations

from textual.widgets import Input

from kiosk import i18n


class ScannerInput(Input):
    """Its placeholder follows the app's ``lang``."""

    DEFAULT_CSS = "ScannerInput { height: 1; border: none; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(password=True, id=id)
        self.cursor_blink = False

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.relabel)

    def relabel(self, lang: str) -> None:
        self.placeholder = i18n.t("scanner", lang)
