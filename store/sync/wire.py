"""The JSON shape of rows on the wire between a kiosk and the site service (issue 24).

Pulled rows travel in the kiosk's SQLite storage format, computed by the shared database (see
store/sync/pull.py ``_raw_expr``): hex UUIDs, ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, 0/1, so the kiosk writes
them as they come. Binary columns (a face thumbnail, a public key) are base64 text, named in ``binary``.

Pushed rows travel as Python values encoded by ``encode_value`` and are decoded by the service with the
table's column types (``decode_rows``): a kiosk cannot smuggle a type a column does not have.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, LargeBinary, Table, Uuid
from sqlalchemy.types import Float, Integer

from store.errors import StoreError
from store.timeutil import UTCDateTime, as_utc, parse_instant


class WireError(StoreError):
    """A pushed row that is not what its table holds."""


def encode_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime):
        return as_utc(v).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return v


def encode_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: encode_value(v) for k, v in r.items()} for r in rows]


def _decode(table: Table, name: str, v: Any) -> Any:
    if v is None:
        return None
    t = table.c[name].type
    try:
        if isinstance(t, Uuid):
            return uuid.UUID(str(v))
        if isinstance(t, UTCDateTime):
            return as_utc(parse_instant(str(v)))
        if isinstance(t, Date):
            return date.fromisoformat(str(v))
        if isinstance(t, Boolean):
            return bool(v)
        if isinstance(t, LargeBinary):
            return base64.b64decode(str(v), validate=True)
        if isinstance(t, Integer):
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(name)
            return v
        if isinstance(t, Float):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(name)
            return float(v)
        if not isinstance(v, str):
            raise ValueError(name)
        return v
    except (ValueError, TypeError) as exc:
        raise WireError(
            f"上传的数据格式错误：{table.name}.{name}", f"A pushed value is malformed: {table.name}.{name}"
        ) from exc


def decode_rows(table: Table, rows: Any) -> list[dict[str, Any]]:
    """Rows of ``table`` from JSON: only its columns, each of its type."""
    if not isinstance(rows, list):
        raise WireError(f"上传的数据格式错误：{table.name}", f"Pushed rows of {table.name} are not a list")
    out: list[dict[str, Any]] = []
    names = set(table.c.keys())
    for r in rows:
        if not isinstance(r, dict) or not set(r) <= names or "id" not in r:
            raise WireError(f"上传的数据格式错误：{table.name}", f"A pushed row of {table.name} is malformed")
        out.append({k: _decode(table, k, v) for k, v in r.items()})
    return out
