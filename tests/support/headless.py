"""Test helper: ``kiosk run --headless`` as a child process (the way a site runs it), and a disk filled
to its last byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def headless_argv(db: str, project: str, *extra: str, source: str = "-") -> list[str]:
    """The command line of a headless kiosk on ``db`` and ``project`` reading ``source`` (``-``: stdin)."""
    return [
        sys.executable,
        "-m",
        "kiosk",
        "run",
        "--headless",
        "--source",
        source,
        "--db",
        db,
        "--project",
        project,
        *extra,
    ]


def start_headless(
    db: str, project: str, *extra: str, source: str = "-", stdin: int | None = subprocess.PIPE
) -> subprocess.Popen[str]:
    """A headless kiosk in a child process, its output (and stdin, unless ``stdin=None``) in pipes."""
    return subprocess.Popen(
        headless_argv(db, project, *extra, source=source),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def fill_disk(path: Path) -> None:
    """Fill the disk holding ``path`` to the last byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
