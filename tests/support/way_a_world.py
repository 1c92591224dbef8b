"""Test helper for way A: a synthetic project, worker and officers on a database, codes to scan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store.codes.keys import IssuerPrivateKey, register_public_key
from store.codes.tokens import TrustList, Verifier, issue_code
from store.db.engine import make_engine, session
from store.db.models import Attendance, SignInAttempt
from store.people import enroll
from store.reasons import Role
from store.rules.way_a import WayAResult, sign_in_way_a
from support.eligible import make_eligible

AT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
TODAY = date(2026, 11, 25)
CENTRE = (31.2304, 121.4737)
NEAR = (31.2310, 121.4740)  # ~72 m north-north-east of the centre
FAR = (31.2350, 121.4737)  # ~510 m north: 360 m outside a 150 m range


@dataclass
class World:
    url: str
    engine: Engine
    key: IssuerPrivateKey
    project: uuid.UUID
    other: uuid.UUID
    worker: uuid.UUID
    officer: uuid.UUID
    stranger: uuid.UUID  # an officer assigned elsewhere

    def verifier(self) -> Verifier:
        return Verifier(TrustList.from_engine(self.engine), skew_s=30)

    def officer_code(
        self,
        *,
        officer: uuid.UUID | None = None,
        project: uuid.UUID | None = None,
        at: datetime = AT,
        validity_s: int = 120,
    ) -> str:
        return _text(
            issue_code(
                self.key,
                role=Role.OFFICER,
                subject=officer or self.officer,
                project=project or self.project,
                at=at,
                validity_s=validity_s,
            )
        )

    def worker_code(self, *, at: datetime = AT, worker: uuid.UUID | None = None) -> str:
        return _text(
            issue_code(self.key, role=Role.WORKER, subject=worker or self.worker, at=at, validity_s=120)
        )

    def sign(
        self,
        officer_token: str | None = None,
        worker_token: str | None = None,
        where: tuple[float, float] = NEAR,
        at: datetime = AT,
        **kw: object,
    ) -> WayAResult:
        return sign_in_way_a(
            self.engine,
            self.verifier(),
            officer_token=officer_token or self.officer_code(),
            worker_token=worker_token or self.worker_code(),
            latitude=where[0],
            longitude=where[1],
            at=at,
            **kw,  # type: ignore[arg-type]
        )

    def attempts(self) -> list[SignInAttempt]:
        with session(self.engine) as s:
            return list(
                s.exec(select(SignInAttempt).order_by(col(SignInAttempt.at), col(SignInAttempt.created_at)))
            )

    def attendances(self) -> list[Attendance]:
        with session(self.engine) as s:
            return list(s.exec(select(Attendance)))


def _text(code: object) -> str:
    return code if isinstance(code, str) else str(code.token)  # type: ignore[attr-defined]


def build_world(url: str) -> World:
    engine = make_engine(url)
    key = IssuerPrivateKey.generate()
    register_public_key(engine, key.public_raw, not_before=AT - timedelta(days=30))
    with session(engine) as s:
        p = enroll.add_project(session=s, name="测试项目", latitude=CENTRE[0], longitude=CENTRE[1])
        other = enroll.add_project(session=s, name="别的项目", latitude=31.3, longitude=121.4)
        em = enroll.add_employer(session=s, name="上海测试建设有限公司")
        inst = enroll.add_health_institution(session=s, name="测试体检中心")
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        make_eligible(s, w, employer=em, project=p, today=TODAY, institution=inst)
        o = enroll.add_officer(session=s, name="李签到")
        enroll.assign_officer(session=s, officer=o, project=p)
        o2 = enroll.add_officer(session=s, name="王别处")
        enroll.assign_officer(session=s, officer=o2, project=other)
        s.commit()
        return World(url, engine, key, p.id, other.id, w.id, o.id, o2.id)
