"""Revisions: every insert or update of a table in ``models.REVISIONED`` gets the next number of this
database's counter, so sync can pull "everything after revision N" by a cursor the database assigns
(never a kiosk's clock).

The counter is one row (``synccounter.name = 'rev'``) updated in the writing transaction. Its row lock
is held until commit, so transactions that take revisions commit in revision order: a reader that has
seen revision N will never later find an uncommitted N-1 appear. Writes of reference data are rare,
and a kiosk's pushes are batched, so serialising writers on this row costs little.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from store.models import Stamped
from store.timeutil import utcnow

COUNTER = "rev"


def take_revisions(conn: Connection, n: int) -> int:
    """Reserve ``n`` revisions; returns the last one (the reserved range is ``last-n+1 .. last``)."""
    row = conn.execute(
        text("UPDATE synccounter SET value = value + :n WHERE name = :name RETURNING value"),
        {"n": n, "name": COUNTER},
    ).first()
    if row is None:  # a database migrated before the counter row existed: create it
        conn.execute(text("INSERT INTO synccounter (name, value) VALUES (:name, :n)"), {"name": COUNTER, "n": n})
        return n
    return int(row[0])


def current_revision(conn: Connection) -> int:
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
