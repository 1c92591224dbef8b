"""Dialogs over the officer screen: the project picker, help (F1) and the quit confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kiosk import i18n
from kiosk.officer.widgets import kiosk_app

if TYPE_CHECKING:
    from store.rules.unlock import ProjectChoice


def _lang(screen: ModalScreen[Any]) -> str:
    return kiosk_app(screen).lang


class ProjectPicker(ModalScreen["ProjectChoice | None"]):
    """The officer is assigned to several projects: which one does this kiosk sign in for."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", show=False)]

    def __init__(self, projects: tuple[ProjectChoice, ...]) -> None:
        super().__init__()
        self.projects = projects

    def compose(self) -> ComposeResult:
        lang = _lang(self)
        with Vertical(id="dialog"):
            yield Static(i18n.t("pick_project", lang), classes="dialog-title")
            yield OptionList(
                *[Option(Text(p.name), id=str(i)) for i, p in enumerate(self.projects)], id="projects"
            )
            yield Static(i18n.t("pick_hint", lang), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.projects[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,enter,q", "close", show=False),
    ]

    def compose(self) -> ComposeResult:
        lang = _lang(self)
        with Vertical(id="dialog", classes="help"):
            yield Static(i18n.t("help_title", lang), classes="dialog-title")
            yield Static(i18n.t("help_body", lang), id="help-body")
            yield Button(i18n.t("close", lang), id="close", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class QuitScreen(ModalScreen[bool]):
    """Quit the kiosk? Y or Ctrl+Q again quits, N or Esc stays; Enter presses the focused button (Cancel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n,N", "stay", show=False),
        Binding("y,Y", "leave", show=False),  # and Ctrl+Q again (the app's key)
    ]

    def compose(self) -> ComposeResult:
        lang = _lang(self)
        with Vertical(id="dialog", classes="quit"):
            yield Static(i18n.t("quit_question", lang), classes="dialog-title")
            yield Static(i18n.t("quit_keys", lang), classes="dialog-hint")
            with Horizontal(id="buttons"):
                yield Button(i18n.t("quit_yes", lang), variant="error", id="yes")
                yield Button(i18n.t("quit_no", lang), variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_stay(self) -> None:
        self.dismiss(False)

    def action_leave(self) -> None:
        self.dismiss(True)
