"""This kiosk's identity in its local store: its id and name, kept across runs.

``kiosk_identity(engine, kiosk_id=, name=)`` returns the kiosk's UUID: the configured one
(``[kiosk] id``), else the one made on the first run and kept in the ``syncstate`` table under
``kiosk.id``. It makes sure a ``Kiosk`` row with that id and name exists, so "already signed in at
07:02 (1号门)" can name the gate. No UI here.
"""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import select

from store.db.engine import translate_errors, write_session
from store.db.models import Kiosk, Project, SyncState
from store.sync.state import KIOSK_ID as KEY


def kiosk_identity(
    engine: Engine, *, kiosk_id: str = "", name: str = "1号门", project_id: uuid.UUID | None = None
) -> uuid.UUID:
    with translate_errors(str(engine.url)), write_session(engine) as s:
        if kiosk_id:
            kid = uuid.UUID(kiosk_id)
        else:
            row = s.exec(select(SyncState).where(SyncState.key == KEY)).first()
            if row is not None:
                kid = uuid.UUID(row.value)
            else:
                kid = uuid.uuid4()
                s.add(SyncState(key=KEY, value=str(kid)))
        # a fresh kiosk may not hold its project yet (before its first sync): link it once it does
        if project_id is not None and s.get(Project, project_id) is None:
            project_id = None
        kiosk = s.get(Kiosk, kid)
        if kiosk is None:
            s.add(Kiosk(id=kid, name=name, project_id=project_id))
        elif kiosk.name != name or (project_id is not None and kiosk.project_id != project_id):
            kiosk.name = name
            kiosk.project_id = project_id or kiosk.project_id
            s.add(kiosk)
        return kid
