"""What every screen of the admin app shares: ``AdminScreen`` (the app's store, language and actor, dialogs,
reading off the UI thread) and ``TableScreen`` (a heading and a table loaded by a thread worker).

The screens see the app through ``AdminContext``, the part of it they use, so this module does not import
``kiosk/admin/app.py`` (which imports every screen).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, TypeVar, cast

from rich.cells import cell_len
from rich.text import Text
from sqlalchemy.engine import Engine
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk.admin.forms import Field, FormScreen
from kiosk.config import Config
from kiosk.i18n import label, pick
from store.db.engine import translate_errors
from store.errors import StoreError
from store.rules.policy import Policy

R = TypeVar("R")


# One read-only property a member: a Protocol's shape.
class AdminContext(Protocol):
    """What the admin app gives its screens (``AdminApp``), read-only."""

    @property
    def engine(self) -> Engine: ...

    @property
    def config(self) -> Config: ...

    @property
    def actor(self) -> str: ...

    @property
    def lang(self) -> str: ...

    @property
    def camera(self) -> str: ...

    @property
    def face_frames(self) -> int: ...

    @property
    def policy(self) -> Policy: ...

    def today(self) -> date: ...

    def local(self, at: datetime | None) -> str: ...


Row = tuple[str, list[Any]]  # (row key, cells)


def admin_of(screen: Screen[Any]) -> AdminContext:
    """The admin app behind a screen or dialog of it."""
    return cast(AdminContext, screen.app)


class AdminScreen(Screen[None]):
    """What every screen of the admin app shares: the store, the language, dialogs, reading off the UI thread."""

    #: first in every footer; F1–F7 switch screens (the app's keys), all listed by ?
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.keys_help", label("admin.key.help"), key_display="?")
    ]

    @property
    def admin(self) -> AdminContext:
        return admin_of(self)

    def on_mount(self) -> None:
        """The footer in the admin's language only ("新增 Add" → "新增" or "Add"): twice as many keys fit."""
        for key, bindings in list(self._bindings.key_to_bindings.items()):
            self._bindings.key_to_bindings[key] = [
                dataclasses.replace(b, description=pick(self.admin.lang, *split_words(b.description)))
                for b in bindings
            ]

    @property
    def lang(self) -> str:
        """The admin's language, for ``t(key, self.lang)``."""
        return self.admin.lang

    def tr(self, zh: str, en: str) -> str:
        """Of words that arrive as a (zh, en) pair (HEADING, COLUMNS), the admin's."""
        return pick(self.admin.lang, zh, en)

    def form(
        self,
        title: tuple[str, str],
        fields: list[Field],
        action: Callable[[dict[str, str]], Any],
        done: Callable[[Any], None] | None = None,
        note: tuple[str, str] | None = None,
    ) -> None:
        def after(result: Any) -> None:
            if result is not None and done is not None:
                done(result)

        self.app.push_screen(FormScreen(title, fields, action, lang=self.admin.lang, note=note), after)

    @work(thread=True, exit_on_error=False, group="read", description="read for a dialog")
    def fetch(self, read: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Read off the UI thread, then call ``then(result)`` on it."""
        try:
            result = read()
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.app.call_from_thread(then, result)

    def get(self, model: type, key: str) -> Any:
        """One row by id (call from a worker thread)."""
        from store.db.engine import session

        with translate_errors(str(self.admin.engine.url)), session(self.admin.engine) as s:
            return s.get(model, uuid.UUID(key))

    def post_read(self, read: Callable[[], R], message: Callable[[R], Message]) -> None:
        """(In a worker thread.) ``read()``, posted to this screen as ``message(result)``; a StoreError is
        said instead."""
        try:
            result = read()
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.post_message(message(result))

    def done(self, write: Callable[[], object]) -> bool:
        """(In a worker thread.) ``write()``: whether it worked; a StoreError is said."""
        try:
            write()
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return False
        return True

    def failed(self, exc: StoreError) -> None:
        self.notify(f"{exc.zh}\n{exc.en}", severity="error", timeout=8, markup=False)


def fill_table(table: DataTable[Any], headers: list[str], rows: list[tuple[str, list[Any]]]) -> None:
    """The rows, under columns as wide as their widest value. (DataTable measures new rows only when idle,
    and a table drawn before that kept its header widths: a short list showed 310***** for an ID.)"""
    cells = [[Text(c) if isinstance(c, str) else c for c in row] for _, row in rows]
    widths = [
        max([cell_len(h), *(cell_len(r[i].plain) for r in cells if isinstance(r[i], Text))])
        for i, h in enumerate(headers)
    ]
    table.clear(columns=True)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, width=width)
    for (key, _), row in zip(rows, cells, strict=True):
        table.add_row(*row, key=key)


def split_words(description: str) -> tuple[str, str]:
    """A key's "中文 English" description as (zh, en)."""
    zh, _, en = description.partition(" ")
    return (zh, en) if en and not zh.isascii() else (description, description)


class TableScreen(AdminScreen):
    """A heading, a table of rows loaded off the UI thread, and the footer with this screen's keys.

    Each screen declares its HEADING, COLUMNS and BINDINGS as class data, one catalogue key a line
    (``pair(...)``, ``label(...)``): the runs of lines the screens share by shape are these declarations,
    not logic repeated."""

    HEADING: ClassVar[tuple[str, str]] = ("", "")
    COLUMNS: ClassVar[list[tuple[str, str]]] = []
    AUTO_FOCUS = "#table"

    class Loaded(Message):
        def __init__(self, rows: list[Row]) -> None:
            super().__init__()
            self.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.tr(*self.HEADING), classes="heading")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="load a table")
    def reload(self) -> None:
        self.post_read(self.rows, self.Loaded)

    def on_table_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one("#table", DataTable)
        keep = self.selected()
        fill_table(table, [self.tr(zh, en) for zh, en in self.COLUMNS], message.rows)
        if keep is not None:
            for i, (key, _) in enumerate(message.rows):
                if key == keep:
                    table.move_cursor(row=i)

    def selected(self) -> str | None:
        table = self.query_one("#table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # no rows yet
            return None
        return str(key.value) if key.value is not None else None

    def rows(self) -> list[Row]:
        raise NotImplementedError

    def refreshed(self, _result: Any = None) -> None:
        self.reload()
