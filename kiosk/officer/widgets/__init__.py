"""The officer screen's widgets. Each one renders from its own state and the app's language, so a
language switch is a refresh, not a rebuild; they follow the app's reactive state (language, camera,
counters, sync) by watching it, and read the app through one typed accessor, ``kiosk_app``, as an
``OfficerView``: the little they read (the widgets do not import the app, which imports them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, cast

from textual.dom import DOMNode
from textual.widget import Widget

from kiosk import i18n


def utcnow() -> datetime:
    return datetime.now(UTC)


class OfficerView(Protocol):
    """What the officer screen's widgets and screens read from the app (``KioskApp`` has it; mypy checks
    that in ``kiosk/officer/app.py``)."""

    @property
    def lang(self) -> str: ...

    @property
    def demo(self) -> bool: ...

    @property
    def now(self) -> Callable[[], datetime]: ...

    @property
    def image_preview(self) -> bool: ...


def kiosk_app(node: DOMNode) -> OfficerView:
    """The officer app a screen or widget of ``kiosk.officer`` runs in (the one place that says so)."""
    return cast(OfficerView, node.app)


class Localized(Widget):
    """A widget whose text comes from the catalogue in the app's current language (redrawn when it
    changes: it watches the app's ``lang``)."""

    @property
    def kiosk(self) -> OfficerView:
        return kiosk_app(self)

    @property
    def lang(self) -> str:
        return self.kiosk.lang

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self._relabel, init=False)

    def _relabel(self) -> None:
        self.refresh(layout=True)

    def t(self, key: str, /, **fields: object) -> str:
        return i18n.t(key, self.lang, **fields)


class Tr(Localized):
    """A label from the catalogue: ``Tr("locked")``."""

    DEFAULT_CSS = "Tr { width: auto; height: auto; }"

    def __init__(
        self, key: str, *, id: str | None = None, classes: str | None = None, **fields: object
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.key = key
        self.fields = fields

    def set_key(self, key: str, **fields: object) -> None:
        self.key, self.fields = key, fields
        self.refresh(layout=True)

    def render(self) -> str:
        return self.t(self.key, **self.fields)
