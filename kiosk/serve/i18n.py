"""The language of a phone request: ``lang_of(request)`` (?lang=, then the cookie, else Chinese).

The words themselves are in the one catalogue, ``kiosk.i18n`` (``phone.py`` and ``enroll.py`` there);
the templates get its ``t`` as a Jinja global (``context.py``).
"""

from __future__ import annotations

from fastapi import Request

from kiosk.i18n import LANGS

LANG_COOKIE = "kiosk_lang"


def lang_of(request: Request) -> str:
    """?lang= wins, then the language cookie, else Chinese."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get(LANG_COOKIE)
    return c if c in LANGS else "zh"
