"""Revisions: every insert or update of a table in ``models.REVISIONED`` gets a new number from this
database's counter, so sync can pull "everything after revision N" by a cursor the database assigns
(never a kiosk's clock).

PostgreSQL (the shared database, many writers): numbers come from the sequence ``kiosk_rev`` through
``kiosk_take_revisions(n)`` (migration 0004). A sequence never waits: writers do not queue on one row
lock, so a stalled kiosk connection cannot hold up an import or a key revocation. Transactions then
commit out of revision order, so "the current revision" must not step past a number that may still
commit: each writing transaction marks the lowest number it holds with a transaction advisory lock,
and ``kiosk_safe_revision()`` returns the highest number below which every holder has ended. A pull
(store/sync/pull.py) reads that *before* its snapshot, so every row up to it is in the snapshot. No
kiosk login may take numbers or set the sequence (store/sync/roles.py); it writes through ``kiosk_push``.

SQLite (a kiosk's local store, or a small shared file): one row (``synccounter.name = 'rev'``) updated in
the writing transaction — SQLite has one writer at a time anyway, so this costs nothing and commits
come in revision order. A trigger refuses to move it backwards (both dialects).

``take_revisions(conn, n)`` returns the last of ``n`` numbers; the caller numbers its rows
``last - n + 1 .. last``. On PostgreSQL another writer may take numbers in between, so two rows may share
a revision: it is a cursor, not a key, and every number a caller uses is at or above the mark it holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from store.db.models import Stamped
from store.timeutil import utcnow

COUNTER = "rev"


def _sequenced(conn: Connection) -> bool:
    """PostgreSQL at migration 0004 or later (the sequence exists)."""
    if conn.dialect.name != "postgresql":
        return False
    cached = conn.info.get("kiosk_rev_seq")
    if cached is None:
        cached = conn.execute(text("SELECT to_regclass('kiosk_rev') IS NOT NULL")).scalar_one()
        if cached:  # only a positive answer is kept: a database migrated later must be seen
            conn.info["kiosk_rev_seq"] = True
    return bool(cached)


#: made once: every sign-in takes revisions, and a statement built anew is compiled anew
_TAKE_SEQUENCED = text("SELECT kiosk_take_revisions(:n)")
_TAKE_COUNTER = text("UPDATE synccounter SET value = value + :n WHERE name = :name RETURNING value")


def take_revisions(conn: Connection, n: int) -> int:
    """Reserve ``n`` revisions; returns the last one (the caller uses ``last-n+1 .. last``)."""
    if _sequenced(conn):
        return int(conn.execute(_TAKE_SEQUENCED, {"n": n}).scalar_one())
    row = conn.execute(_TAKE_COUNTER, {"n": n, "name": COUNTER}).first()
    if row is None:  # a database migrated before the counter row existed: create it
        conn.execute(
            text("INSERT INTO synccounter (name, value) VALUES (:name, :n)"), {"name": COUNTER, "n": n}
        )
        return n
    return int(row[0])


def current_revision(conn: Connection) -> int:
    """The highest revision below which everything has committed (PostgreSQL: call it outside the
    snapshot that reads the rows, see the module doc)."""
    if _sequenced(conn):
        return int(conn.execute(text("SELECT kiosk_safe_revision()")).scalar_one())
    row = conn.execute(text("SELECT value FROM synccounter WHERE name = :name"), {"name": COUNTER}).first()
    return int(row[0]) if row else 0


@event.listens_for(Session, "before_flush")
def _stamp_revisions(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get("keep_revisions"):
        return  # sync copying rows from another database keeps their stamps
    changed = [o for o in session.new if isinstance(o, Stamped)]
    changed += [o for o in session.dirty if isinstance(o, Stamped) and session.is_modified(o)]
    if not changed:
        return
    last = take_revisions(session.connection(), len(changed))
    now = utcnow()
    for offset, obj in enumerate(changed):
        obj.rev = last - len(changed) + 1 + offset
        if obj in session.dirty:
            obj.updated_at = now
