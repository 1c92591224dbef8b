"""The officer screen: live picture and enrolled photo, the result card, counters, last attempts.

It follows the app's ``session`` (the project and officer in the header; a new one clears the card) and
``shown`` (a result or an error on the card, for ``card_s`` seconds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Static

from kiosk.officer.screens import KioskScreen, preview_widget
from kiosk.officer.widgets import Tr
from kiosk.officer.widgets.attempts import AttemptRow, AttemptsList
from kiosk.officer.widgets.result_card import ResultCard
from kiosk.officer.widgets.scanner import ScannerInput
from kiosk.officer.widgets.status import CameraStatus, Clock, Counters, GateModeBadge, KeyBar, SyncStatus
from kiosk.widgets.pixels import PixelView
from store.timeutil import DEFAULT_ZONE

if TYPE_CHECKING:
    import numpy as np

    from kiosk.officer.session import Session
    from kiosk.officer.widgets.result_card import Shown
    from store.rules.signin import SignInResult

OFFICER_KEYS = [
    ("F1", "k_help"),
    ("F2", "k_lock"),
    ("F3", "k_project"),
    ("F4", "k_lang"),
    ("F7", "k_direction"),
    ("^Q", "k_quit"),
]
WAY_A_KEY = ("F5", "k_way_a")


class OfficerScreen(KioskScreen):
    def __init__(
        self, *, tz: str = DEFAULT_ZONE, card_s: float = 3.0, way_a: bool = False, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.tz = tz
        self.card_s = card_s
        self.way_a = way_a
        self._card_timer: Timer | None = None
        self._session: Session | None = None  # the one in the header

    # The header as on the locked screen: each screen composes its own widgets (Textual).
    def compose(self) -> ComposeResult:
        with Horizontal(id="header"):
            yield Static("", id="project-name")
            yield GateModeBadge(id="gate-mode")
            yield Tr("demo", id="demo-badge", classes="-hidden")
            yield Clock(tz=self.tz, id="clock")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with Horizontal(id="pictures"):
                    yield preview_widget(self.kiosk)
                    with Vertical(id="face-box", classes="-hidden"):
                        yield Tr("enrolled_face", id="face-label")
                        yield PixelView(id="face")
                yield Counters(id="counters")
                yield CameraStatus(id="camera-state")
                yield SyncStatus(tz=self.tz, id="sync-state")
            with Vertical(id="right"):
                yield ResultCard(tz=self.tz, id="card")
                yield AttemptsList(tz=self.tz, id="attempts")
        yield ScannerInput(id="scanner")
        keys = [*OFFICER_KEYS[:3], WAY_A_KEY, *OFFICER_KEYS[3:]] if self.way_a else OFFICER_KEYS
        yield KeyBar(list(keys), id="keys")

    def on_mount(self) -> None:
        self.query_one("#demo-badge").set_class(not self.kiosk.demo, "-hidden")
        self.query_one("#card", ResultCard).show(None)
        self.watch(self.app, "session", self._session_changed)
        self.watch(self.app, "shown", self._shown, init=False)

    def _session_changed(self, session: Session | None) -> None:
        """A new officer or project: in the header, and a clean card (locked: it stays as it was)."""
        if session is not None and session != self._session:
            self._session = session
            self.query_one("#project-name", Static).update(
                Text(f"{session.project.name} · {session.officer_name}")
            )
            self.clear_card()

    def _shown(self, shown: Shown | None) -> None:
        # not while the app closes: its widgets are being removed, and a result still arriving from a
        # worker (durable already) has no card to go on
        if shown is None or not self.query("#card"):
            return
        if shown.error is not None:
            self.show_error(shown.error)
        elif shown.result is not None:
            self.show_result(shown.result, shown.face)

    def show_result(self, result: SignInResult, face: np.ndarray | None = None) -> None:
        """A new result replaces the card (and its timer); the attempt goes on the list."""
        card = self.query_one("#card", ResultCard)
        card.show(result)
        self._show_face(face)
        name = result.worker.name if result.worker is not None else None
        self.query_one("#attempts", AttemptsList).add(
            AttemptRow(result.at, name, result.outcome, result.reason)
        )
        if self._card_timer is not None:
            self._card_timer.stop()
        self._card_timer = self.set_timer(self.card_s, self.clear_card)

    def show_error(self, text: str) -> None:
        self.query_one("#card", ResultCard).show_error(text)
        self._show_face(None)
        if self._card_timer is not None:
            self._card_timer.stop()
        self._card_timer = self.set_timer(self.card_s, self.clear_card)

    def clear_card(self) -> None:
        self.query_one("#card", ResultCard).show(None)
        self._show_face(None)
        self._card_timer = None

    def _show_face(self, face: np.ndarray | None) -> None:
        box = self.query_one("#face-box")
        view = self.query_one("#face", PixelView)
        box.set_class(face is None, "-hidden")
        if face is None:
            view.clear()
        else:
            self.call_after_refresh(view.show_image, face)
