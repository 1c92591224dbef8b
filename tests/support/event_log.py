"""The kiosk's event log as the tests read it: every event in order, or their kinds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from store.db.models import KioskEvent


def events(engine: Engine) -> list[KioskEvent]:
    from sqlmodel import Session

    with Session(engine) as s:
        return list(s.exec(select(KioskEvent).order_by(KioskEvent.at, KioskEvent.rev)).scalars())  # type: ignore[call-overload]


def kinds(engine: Engine) -> list[str]:
    return [e.kind for e in events(engine)]
