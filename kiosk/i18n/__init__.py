"""The one catalogue of the words the front ends show, in Chinese (the default) and English.

``t(key, lang, **fields)`` returns the text of ``key`` in ``lang`` ("zh" or "en"; anything else is
Chinese) with ``{fields}`` filled in. The words live by front end in the data modules of this package,
each a ``WORDS`` dict of key -> (Chinese, English), merged here into ``MESSAGES`` at import:

- ``officer.py``  the officer app (bare keys), its way-A screen (``way_a.``) and the camera (``camera.``)
- ``roster.py``   the roster (``roster.``)
- ``setup.py``    the set-up wizard (``setup.``)
- ``admin.py``    the admin app (``admin.``)
- ``phone.py``    the phone service's pages (``app.``, ``nav.``, ``home.``, ``code.``, ``signin.``, ``err.`` …)
                  and ``kiosk code phone`` (``phone_app.``)
- ``enroll.py``   the phone service's enrollment pages (``enroll.``)

Lookups: ``t`` one language; ``pair`` (Chinese, English), where the code carries both (a form's field,
``Field(name, *pair(key))``; a screen's HEADING and COLUMNS; a dialog's title); ``both`` "中文 / English"
(the CLI, the officer app's title); ``label`` "中文 English", a key binding's description (class-level
BINDINGS can call it: the catalogue is loaded at import), which the admin footer splits into one language.

A key defined in two modules stops the import. A test checks that every key has both languages and the
same fields in each, and that every key the code names with ``t``/``pair``/``both``/``label`` exists.

What is NOT here, and where it lives instead:

- refusal reasons and store errors: the JSON output carries them, so they live with their codes in
  ``store/reasons.py`` and ``store/errors.py``;
- the (zh, en) of a ``StoreError(zh, en)`` raised inline in ``kiosk/`` outside a screen's own form
  (the CLI, the config, the wiring, the set-up's config file) and of ``kiosk doctor``'s checks
  (``kiosk/setup/doctor.py``): they travel with the error or the check to the JSON output and the CLI.
  (What an admin form's own check says, ``ValidationError(field, *pair("admin.check.…"))``, is a screen
  word and is here);
- the CLI's ``--help`` texts and messages (``kiosk/cli/``), written where the command is defined;
- log lines (English), and the phone service's API title (``kiosk/serve/app.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from kiosk.i18n import admin, enroll, officer, phone, roster, setup

LANGS: Final = ("zh", "en")


def _merge(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        for key, words in table.items():
            if key in merged:
                raise ValueError(f"the word key {key!r} is defined twice")
            merged[key] = words
    return merged


#: key -> (Chinese, English), every front end's words
MESSAGES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    _merge(officer.WORDS, roster.WORDS, setup.WORDS, admin.WORDS, phone.WORDS, enroll.WORDS)
)


def t(key: str, lang: str = "zh", /, **fields: object) -> str:
    """The words of ``key`` in ``lang`` (Chinese unless "en"), with ``fields`` filled in."""
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**fields) if fields else text


def pair(key: str, /, **fields: object) -> tuple[str, str]:
    """The words of ``key`` in both languages, (Chinese, English): for a message that carries both."""
    return t(key, "zh", **fields), t(key, "en", **fields)


def both(key: str, /, **fields: object) -> str:
    """Chinese, then English after a slash: for places that must speak to everyone (the CLI)."""
    return f"{t(key, 'zh', **fields)} / {t(key, 'en', **fields)}"


def label(key: str, /) -> str:
    """Chinese, a space, then English: a key binding's description ("新增 Add"), which the admin app's
    footer splits to show one language; also the bilingual labels of a list to pick from ("男 M")."""
    return f"{t(key, 'zh')} {t(key, 'en')}"


def pick(lang: str, zh: str, en: str) -> str:
    """Of words that arrive as a pair rather than by key (a store message, a form field's own label),
    the one in ``lang``."""
    return en if lang == "en" else zh
