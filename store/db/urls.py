"""Database URLs as the user writes them and as we show them: a bare path is a SQLite file, a password is
never shown."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from store.errors import DatabaseUnavailable


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL, ``postgresql://…`` (psycopg 3 is used), or a bare path to a SQLite file."""
    url = url.strip()
    if not url:
        raise DatabaseUnavailable("数据库地址为空", "The database URL is empty")
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser().resolve())
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if not url or "://" not in url:
        return url
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # unparseable (a non-numeric port…): hide the password by hand
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def shown(url: str) -> str:
    """A database as a person names it: the file path of SQLite, else the URL without its password."""
    text = redact(url)
    return text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
