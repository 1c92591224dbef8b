"""The kiosk's operational log: a rotating file in the platformdirs log folder.

``setup_logging()`` (called once by the command line) sends every logger's INFO and above to
``<user log dir>/kiosk.log`` (Linux: ``~/.local/state/site-signin-kiosk/log/kiosk.log``;
``KIOSK_LOG_DIR`` overrides the folder), 1 MB a file, the last five kept, the folder readable by its
owner only. What goes in: which command ran and how it ended, the officer screen's state changes and
its event log (store/roster/events.py), sync rounds (counts, clock drift, errors with the database password
removed), headless outcomes (outcome and reason only). What never goes in: names, ID or card numbers,
codes, positions, worker ids. The code that logs keeps to that; ``RedactFilter`` is the safety net
under it, rewriting anything shaped like a personal code, an ID number, a card number or a URL's
password before a line is written.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from platformdirs import user_log_path

from kiosk.config import APP

LOG_FILE = "kiosk.log"
MAX_BYTES = 1 << 20
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"SJM1:[A-Z2-7:]+"), "SJM1:<code>"),  # a personal code (store/codes/tokens.py)
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "<id-number>"),  # GB 11643
    (re.compile(r"(?<!\d)\d{12,19}(?!\d)"), "<number>"),  # a bank card (or any long number)
    (re.compile(r"(://[^:/@\s]+):[^@/\s]+@"), r"\1:***@"),  # a password in a URL
)


def log_dir() -> Path:
    return Path(os.environ.get("KIOSK_LOG_DIR") or user_log_path(APP))


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactFilter(logging.Filter):
    """Rewrites the formatted message (and drops the arguments) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:  # a traceback's text may quote values: the exception's type is enough here
            etype = record.exc_info[0]
            record.msg += f" [{etype.__name__ if etype else 'error'}]"
            record.exc_info = None
            record.exc_text = None
        return True


_handler: logging.Handler | None = None


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Start the rotating log file (once per process); returns its path, or None when it cannot be
    written (a read-only home): the kiosk runs on without a file log."""
    global _handler
    folder = log_dir()
    path = folder / LOG_FILE
    if _handler is not None:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for noisy in ("alembic", "sqlalchemy", "PIL", "asyncio", "markdown_it"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _handler = handler
    return path


def stop_logging() -> None:
    """Close the file (tests; a process ending closes it anyway)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
