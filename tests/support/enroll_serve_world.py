"""Test helper for the enrollment pages: the phone service's world plus a worker who still has everything
to do (not verified, no bank card, no health check, an employment waiting for him)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from store.db.engine import write_session
from store.db.models import Employer, Employment, Project
from store.people import enroll
from store.timeutil import local_date, utcnow
from support.enroll_world import id_number
from support.serve_world import ServeWorld, build_serve_world, csrf_of

NEWCOMER_ID = id_number(date(1992, 3, 7), 3)  # synthetic; 17th digit 3: a man
NEWCOMER = "李新来"


@dataclass
class EnrollWorld:
    sw: ServeWorld
    newcomer: uuid.UUID
    employment: uuid.UUID  # the newcomer's, waiting for his confirmation
    others_employment: uuid.UUID  # another worker's

    @property
    def engine(self) -> Engine:
        return self.sw.world.engine


def build_enroll_world(url: str, tmp: Path, **serve: object) -> EnrollWorld:
    sw = build_serve_world(url, tmp, **serve)
    today = local_date(utcnow())
    with write_session(sw.world.engine) as s:
        w = enroll.add_worker(session=s, id_number=NEWCOMER_ID, name=NEWCOMER)
        employer = s.exec(select(Employer)).first()
        project = s.get(Project, sw.world.project)
        assert employer is not None and project is not None
        e = enroll.add_employment(
            # add_employment with this world's values (alike other worlds' in shape only).
            session=s,
            worker=w,
            employer=employer,
            project=project,
            team="木工班",
            trade="木工",
            start_date=today - timedelta(days=2),
        )
        theirs = s.exec(select(Employment).where(Employment.worker_id == sw.world.worker)).first()
        assert theirs is not None
        ids = (w.id, e.id, theirs.id)
    return EnrollWorld(sw, *ids)


def bound_client(ew: EnrollWorld, worker: uuid.UUID | None = None) -> tuple[TestClient, str]:
    """A phone bound to the newcomer (or ``worker``), and the CSRF token its pages carry."""
    client = ew.sw.bind(ew.sw.client(), ew.sw.link(worker=worker or ew.newcomer))
    return client, csrf_of(client.get("/enroll").text)
