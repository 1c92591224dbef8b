"""Writing a user's file safely: all of it or nothing under its name, and one clear message on failure.

``write_atomically(path, data)`` writes beside the target and renames (a half-written file never takes
the name of a good one: a full disk leaves the old file, or none); ``workbook_bytes(wb)`` renders an
openpyxl workbook in memory first (openpyxl writing straight into a file on a full disk fails again while
the zip is closed by the garbage collector, with a traceback on standard error).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from store.errors import StoreError


def workbook_bytes(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_atomically(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    # db/backup.py and roster/exports write to a temporary file the same way, each with its own errors.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise StoreError(
            f"无法写入文件：{path}（{exc.strerror}）", f"Cannot write the file {path}: {exc.strerror}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path
