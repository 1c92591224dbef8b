"""A generation number per database for the reference data a sign-in reads (workers, their health checks
and employments, employers, projects): what ``store.rules.facts`` keys its cache on.

It moves when that data may have changed in this process: ``reference_changed(engine)``, which the pull
calls after writing what it brought (it writes with Core, which no ORM event sees), and any ORM flush
that adds, changes or deletes a row of those tables (the admin's writes, enrollment, the tests). A pull in
another process is seen by the cache through the stored pull cursor instead (``store.rules.facts``).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from store.db.models import Employer, Employment, HealthCheck, Project, Worker

#: the tables whose rows are eligibility facts
FACT_MODELS = (Worker, HealthCheck, Employment, Employer, Project)

_lock = threading.Lock()
_generations: dict[str, int] = {}


def database_key(engine: Engine) -> str:
    """Which database an engine is on (two engines on one file share it)."""
    return engine.url.render_as_string(hide_password=True)


def generation(database: str) -> int:
    return _generations.get(database, 0)


def reference_changed(engine: Engine) -> None:
    """The reference data of ``engine``'s database may have changed: what was read of it is stale."""
    key = database_key(engine)
    with _lock:
        _generations[key] = _generations.get(key, 0) + 1


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, FACT_MODELS) for o in touched):
        bind = session.get_bind()
        if isinstance(bind, Engine):
            reference_changed(bind)
        else:  # a Connection
            reference_changed(bind.engine)
