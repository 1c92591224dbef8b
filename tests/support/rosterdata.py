"""A small synthetic site for the roster and export tests, built with store/people/enroll.py and store/rules/signin.py.

Everything is made up: names, ID numbers (valid GB 11643 checksums, made here), card numbers.
Work dates are Shanghai dates; the sign-ins straddle the October/November 2026 boundary in UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from stdnum import luhn
from stdnum.cn import ric

from store.db.engine import make_engine, write_session
from store.db.models import Kiosk, Project, Worker
from store.people import enroll
from store.reasons import Reason, Way
from store.rules.signin import SignInService

DAY = date(2026, 11, 2)  # the roster's day (Monday)
#: the frozen "now" of the UI tests: 09:15:00 in Shanghai on DAY
NOW = datetime(2026, 11, 2, 1, 15, tzinfo=UTC)


def id_number(n: int, birth: str = "19850612") -> str:
    body = f"310104{birth}{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def card_number(n: int) -> str:
    body = f"62220200{n:010d}"
    return body + luhn.calc_check_digit(body)


@dataclass
class Site:
    engine: Engine
    project_id: uuid.UUID
    other_project_id: uuid.UUID
    kiosk_id: uuid.UUID
    workers: dict[str, uuid.UUID] = field(default_factory=dict)  # name -> id
    service: SignInService | None = None


#: name, employer (0/1), team, trade, confirmed
PEOPLE = (
    ("张建国", 0, "钢筋班组", "钢筋工", True),
    ("李卫东", 0, "钢筋班组", "焊工", True),
    ("王小明", 0, "木工班组", "木工", True),
    ("赵大海", 1, "水电班组", "电工", True),
    ("陈国强", 1, "水电班组", "水暖工", True),
    ("刘德华", 1, "泥工班组", "瓦工", True),  # never signs in: a worker with no attendance
    ("孙未确", 1, "泥工班组", "抹灰工", False),  # employment not confirmed: refused
)
EMPLOYERS = ("上海甲建筑劳务有限公司", "上海乙机电安装有限公司")


def build_site(engine: Engine) -> Site:
    with write_session(engine) as s:
        project = enroll.add_project(session=s, name="测试项目一号地块", latitude=31.2, longitude=121.5)
        other = enroll.add_project(session=s, name="测试项目二号地块", latitude=31.3, longitude=121.4)
        employers = [enroll.add_employer(session=s, name=n) for n in EMPLOYERS]
        inst = enroll.add_health_institution(session=s, name="测试体检中心")
        s.flush()  # no ORM relationships: parents first
        kiosk = Kiosk(name="1号门", project_id=project.id)
        s.add(kiosk)
        site = Site(engine, project.id, other.id, kiosk.id)
        for i, (name, emp, team, trade, confirmed) in enumerate(PEOPLE, 1):
            site.workers[name] = _worker(s, i, name, employers[emp], project, team, trade, confirmed, inst).id
            s.flush()
    site.service = SignInService(engine)
    return site


def _worker(
    s: Session,
    i: int,
    name: str,
    employer: object,
    project: Project,
    team: str,
    trade: str,
    confirmed: bool,
    inst: object,
) -> Worker:
    w = enroll.add_worker(session=s, id_number=id_number(i * 2 + 1), name=name)
    s.flush()
    enroll.verify_realname(session=s, worker=w, by="test-admin", at=datetime(2026, 1, 5, tzinfo=UTC))
    enroll.add_bank_card(session=s, worker=w, bank_name="中国工商银行", card_number=card_number(i))
    enroll.add_health_check(session=s, worker=w, checked_on=date(2026, 6, 1), institution=inst)  # type: ignore[arg-type]
    # add_employment with the roster site's values (alike other worlds' in shape only).
    e = enroll.add_employment(
        session=s,
        worker=w,
        employer=employer,
        project=project,
        team=team,
        trade=trade,  # type: ignore[arg-type]
        start_date=date(2026, 9, 1),
    )
    if confirmed:
        enroll.confirm_employment(session=s, employment=e, at=datetime(2026, 8, 30, tzinfo=UTC))
    return w


def sign(site: Site, name: str, at: datetime, *, way: Way = Way.B, kiosk: bool = True) -> object:
    assert site.service is not None
    return site.service.sign_in(
        site.workers[name], site.project_id, way=way, at=at, kiosk_id=site.kiosk_id if kiosk else None
    )


def populate_day(site: Site) -> None:
    """The roster day: three signed in (one by phone, way A), one refused, one bad code, the rest not yet.

    Also the month boundary: 张建国 signs in at 2026-10-31 23:30 UTC (= 11-01 07:30 Shanghai) and
    2026-10-31 15:30 UTC (= 10-31 23:30 Shanghai).
    """
    assert site.service is not None
    sign(site, "张建国", datetime(2026, 10, 31, 15, 30, tzinfo=UTC))  # 10-31 in Shanghai
    sign(site, "张建国", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))  # 11-01 in Shanghai
    sign(site, "张建国", datetime(2026, 11, 1, 23, 2, tzinfo=UTC))  # 11-02 07:02
    sign(site, "张建国", datetime(2026, 11, 1, 23, 40, tzinfo=UTC))  # already
    sign(site, "李卫东", datetime(2026, 11, 1, 23, 5, tzinfo=UTC))  # 07:05
    sign(site, "赵大海", datetime(2026, 11, 1, 23, 11, tzinfo=UTC), way=Way.A, kiosk=False)  # 07:11 by phone
    sign(site, "孙未确", datetime(2026, 11, 1, 23, 20, tzinfo=UTC))  # refused: not confirmed
    site.service.record_refusal(
        Reason.CODE_EXPIRED,
        project_id=site.project_id,
        at=datetime(2026, 11, 1, 23, 25, tzinfo=UTC),
        kiosk_id=site.kiosk_id,
    )
    # another project's sign-in never shows
    site.service.record_refusal(
        Reason.CODE_INVALID, project_id=site.other_project_id, at=datetime(2026, 11, 1, 23, 26, tzinfo=UTC)
    )


def populated_site(url: str) -> Iterator[Site]:
    """The synthetic site with its day of sign-ins on the database at ``url``, disposed of afterwards
    (for a fixture: ``yield from populated_site(url)``)."""
    engine = make_engine(url)
    s = build_site(engine)
    populate_day(s)
    yield s
    engine.dispose()


@pytest.fixture
def site(any_url: str) -> Iterator[Site]:
    """A populated synthetic site on each engine (SQLite file and PostgreSQL)."""
    yield from populated_site(any_url)
