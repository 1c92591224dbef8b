"""Errors a user can see: each carries a Chinese and an English message and never a traceback."""

from __future__ import annotations


class StoreError(Exception):
    """A problem with the store that the user can act on. ``str()`` is the English message."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def both(self) -> str:
        return f"{self.zh}\n{self.en}"


class DatabaseUnavailable(StoreError):
    """The database cannot be opened or reached."""


class ReadRefused(DatabaseUnavailable):
    """The database login may not read a table (PostgreSQL: permission denied): use another source."""


class NotMigrated(StoreError):
    """The database has no schema or an older one: run ``kiosk db upgrade``."""


class DatabaseLocked(StoreError):
    """Another program holds the database file locked for longer than the busy timeout."""


class ValidationError(StoreError):
    """A value a person typed or imported is wrong; ``field`` names it."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.field = field
