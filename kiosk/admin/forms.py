"""Dialogs of the admin app: the base every admin dialog uses, a form whose action runs in a thread worker,
and a yes/no question.

``Dialog`` is the base: the admin's language (``self.lang``, for ``t(key, self.lang)``) and Escape.
``AnswerScreen`` is a dialog that answers yes or no (the "#yes" / "#no" buttons, Escape is no).
``FormScreen`` shows labelled fields; "保存 Save" runs ``action(values)`` in a thread (it writes to the
store). A ``StoreError`` (a bad ID number, an unknown date …) is shown in the dialog in Chinese and
English and nothing typed is lost; success dismisses the dialog with the action's result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kiosk.i18n import label, pair, pick, t
from store.errors import StoreError

T = TypeVar("T")
R = TypeVar("R")


class Dialog(ModalScreen[R], Generic[R]):
    """An admin dialog in the admin's language; each subclass binds Escape to its own way out."""

    def __init__(self, *, lang: str = "zh") -> None:
        super().__init__()
        self.lang = lang


class AnswerScreen(Dialog[bool]):
    """A dialog that answers yes ("#yes") or no ("#no", Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "no", label("admin.key.cancel"))]

    @on(Button.Pressed, "#yes")
    def yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form. ``options`` makes it a list to pick from: (label, value) pairs."""

    key: str
    zh: str
    en: str
    value: str = ""
    options: Sequence[tuple[str, str]] | None = None
    required: bool = False
    placeholder: str = ""
    password: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: a check as the value is typed: a (zh, en) warning shown beside the field before saving, or None
    check: Callable[[str], tuple[str, str] | None] | None = None


class FormScreen(Dialog[T | None], Generic[T]):
    """A dialog of fields; its action runs off the UI thread."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", label("admin.key.cancel"))]

    class Succeeded(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    class Failed(Message):
        def __init__(self, zh: str, en: str, field: str | None = None) -> None:
            super().__init__()
            self.zh, self.en, self.field = zh, en, field

    def __init__(
        self,
        title: tuple[str, str],
        fields: Sequence[Field],
        action: Callable[[dict[str, str]], T],
        *,
        lang: str = "zh",
        note: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(lang=lang)
        self.title_pair = title
        self.fields = list(fields)
        self.action = action
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(pick(self.lang, *self.title_pair), id="form-title")
            if self.note:
                yield Static(pick(self.lang, *self.note), id="form-note")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    star = " *" if f.required else ""
                    with Horizontal(classes="form-row"):
                        yield Label(pick(self.lang, f.zh, f.en) + star, classes="form-label")
                        if f.options is not None:
                            # a list starts on the value given, else on nothing: the form never chooses
                            known = any(v == f.value for _, v in f.options)
                            initial: Any = f.value if known else Select.NULL
                            yield Select(
                                [(Text(label), v) for label, v in f.options],
                                id=f"f-{f.key}",
                                allow_blank=True,
                                value=initial,
                                compact=True,
                                prompt=t("admin.choose", self.lang),
                            )
                        else:
                            yield Input(
                                f.value,
                                id=f"f-{f.key}",
                                placeholder=f.placeholder,
                                password=f.password,
                                compact=True,
                            )
                    yield Static("", id=f"e-{f.key}", classes="field-error", markup=False)
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.save", self.lang), variant="primary", id="submit", compact=True)
                yield Button(t("admin.cancel", self.lang), id="cancel", compact=True)

    def on_mount(self) -> None:
        first = self.query("#form-fields Input, #form-fields Select").first()
        first.focus()

    def _field_message(self, key: str, text: str, kind: str = "error") -> None:
        """A line under the field: an error (red) or a warning (amber); empty hides it."""
        line = self.query_one(f"#e-{key}", Static)
        line.update(text)
        line.display = bool(text)
        line.set_class(kind == "warning", "-warning")

    @on(Input.Changed)
    def _checked(self, event: Input.Changed) -> None:
        key = (event.input.id or "")[2:]
        f = next((f for f in self.fields if f.key == key), None)
        if f is None:
            return
        warning = f.check(event.value) if f.check is not None else None
        self._field_message(key, "\n".join(warning) if warning else "", kind="warning")

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            if f.options is not None:
                v = self.query_one(f"#f-{f.key}", Select).value
                out[f.key] = "" if v is Select.NULL or v is None else str(v)
            else:
                out[f.key] = self.query_one(f"#f-{f.key}", Input).value.strip()
        return out

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        values = self.values()
        missing = [f for f in self.fields if f.required and not values[f.key]]
        if missing:
            f = missing[0]
            self._show_error(
                t("admin.fill_in", "zh", field=f.zh), t("admin.fill_in", "en", field=f.en), f.key
            )
            for other in missing[1:]:  # every empty required field is said next to it, not only the first
                zh, en = t("admin.fill_in", "zh", field=other.zh), t("admin.fill_in", "en", field=other.en)
                self._field_message(other.key, f"{zh}\n{en}")
            return
        self.query_one("#submit", Button).disabled = True
        self.query_one("#form-error", Static).update(t("admin.saving", self.lang))
        self._run(values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form", description="save a form")
    def _run(self, values: dict[str, str]) -> None:
        try:
            result = self.action(values)
        except StoreError as exc:
            self.post_message(self.Failed(exc.zh, exc.en, getattr(exc, "field", None)))
        except Exception as exc:  # a bug: say so without its text (it may hold personal data), keep the form
            name = type(exc).__name__
            self.post_message(self.Failed(*pair("admin.save_failed", name=name)))
        else:
            self.post_message(self.Succeeded(result))

    def on_form_screen_succeeded(self, message: Succeeded) -> None:
        self.dismiss(message.result)

    def on_form_screen_failed(self, message: Failed) -> None:
        self.query_one("#submit", Button).disabled = False
        self._show_error(message.zh, message.en, message.field)

    def _show_error(self, zh: str, en: str, key: str | None = None) -> None:
        """Beside the field it is about (focused, scrolled into view), else above the buttons."""
        for f in self.fields:  # earlier errors go; the live warnings stay
            if f.key != key:
                value = self.values()[f.key]
                warning = f.check(value) if f.check is not None else None
                self._field_message(f.key, "\n".join(warning) if warning else "", kind="warning")
        error = self.query_one("#form-error", Static)
        if key is not None and any(f.key == key for f in self.fields):
            error.update("")
            self._field_message(key, f"{zh}\n{en}")
            widget = self.query_one(f"#f-{key}")
            widget.focus()
            self.call_after_refresh(self.query_one(f"#e-{key}").scroll_visible, animate=False)
            return
        error.update(f"[b red]{_esc(zh)}[/]\n{_esc(en)}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _esc(text: str) -> str:
    return text.replace("[", r"\[")


class ConfirmScreen(AnswerScreen):
    """A question with 确定 / 取消."""

    def __init__(self, question: tuple[str, str], *, lang: str = "zh") -> None:
        super().__init__(lang=lang)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"{self.question[0]}\n{self.question[1]}", id="form-title")
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.ok", self.lang), variant="primary", id="yes")
                yield Button(t("admin.cancel", self.lang), id="no")


class KeysHelpScreen(Dialog[None]):
    """? : every key of the screen and of the app (the footer shows what fits)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape,question_mark,enter,q", "close", label("admin.key.close"))
    ]

    def __init__(self, rows: list[tuple[str, str]], *, lang: str = "zh") -> None:
        super().__init__(lang=lang)
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.rows), default=1)
        body = Text()
        for key, what in self.rows:
            body.append(f" {key:<{width}} ", style="bold reverse")
            body.append(f"  {what}\n")
        with Vertical(id="form"):
            yield Label(t("admin.keys", self.lang), id="form-title")
            with VerticalScroll(id="form-fields"):
                yield Static(body, id="keys-body")
            yield Static(t("admin.esc_close", self.lang), id="form-note")

    def action_close(self) -> None:
        self.dismiss(None)
