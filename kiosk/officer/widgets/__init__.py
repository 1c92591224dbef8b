"""The officer screen's widgets. Each one renders from its own state and the app's language, so a
language switch is a refresh, not a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widget import Widget

from kiosk import i18n


def utcnow() -> datetime:
    return datetime.now(UTC)


class Localized(Widget):
    """A widget whose text comes from the catalogue in the app's current language."""

    @property
    def lang(self) -> str:
        return str(getattr(self.app, "lang", "zh"))

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
