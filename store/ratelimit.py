"""Rate limits kept in the shared database, so that every process and host of a service counts the same
hits: ``hit(engine, bucket, key, limit=…)`` is True while ``key`` has had fewer than ``limit`` hits in the
last ``window_s`` seconds (a sliding window), and records this one.

One row per (bucket, key) holds the hit times of the last window. The row is locked for the read and the
write (``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two processes counting
the same phone at once cannot both take the last allowed hit. On PostgreSQL the commit does not wait for
the disk (``synchronous_commit = off`` for this transaction only): hits lost in a crash let a phone in a
few more times that minute, nothing more. Everything is set per transaction (``SET LOCAL``), nothing on
the connection, so this works through PgBouncer in transaction mode.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import col

from store.db.engine import translate_errors, write_session
from store.db.models import RateLimit
from store.timeutil import utcnow

#: one call in this many also deletes the rows of keys idle for a day
PURGE_ONE_IN = 1000


def _hits(text: str, now: float, window_s: float) -> list[float]:
    out = []
    for part in text.split():
        try:
            t = float(part)
        except ValueError:  # a damaged row counts as no hits, not as an error for the phone
            continue
        if now - window_s < t <= now + window_s:  # a clock set back on another host: kept, not trusted
            out.append(t)
    return out


def hit(
    engine: Engine, bucket: str, key: str, *, limit: int, window_s: float = 60.0, at: float | None = None
) -> bool:
    """Count one hit of ``key`` against ``bucket``'s limit; False (nothing recorded) past it.
    ``at``: Unix seconds (tests); else this host's clock."""
    now = time.time() if at is None else at
    table = RateLimit.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    where = (col(RateLimit.bucket) == bucket) & (col(RateLimit.key) == key)
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with translate_errors(str(engine.url)), write_session(engine) as s:
        conn = s.connection()
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        conn.execute(
            insert(table).values(bucket=bucket, key=key, hits="", last_at=utcnow()).on_conflict_do_nothing()
        )
        text = conn.execute(select(table.c.hits).where(where).with_for_update()).scalar_one()
        hits = _hits(text, now, window_s)
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        conn.execute(
            update(table).where(where).values(hits=" ".join(f"{t:.3f}" for t in hits), last_at=utcnow())
        )
    if random.randrange(PURGE_ONE_IN) == 0:
        purge(engine)
    return allowed


def purge(engine: Engine, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete the rows of keys with no hit for ``older_than`` (far longer than any window)."""
    with translate_errors(str(engine.url)), write_session(engine) as s:
        res = s.connection().execute(delete(RateLimit).where(col(RateLimit.last_at) < utcnow() - older_than))
        return int(res.rowcount or 0)


__all__ = ["hit", "purge"]
