"""The sign-in rules of store/rules/signin.py, each refusal reason, the idempotent second scan — on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select
from support.eligible import make_eligible

from store.db.engine import make_engine, session
from store.db.models import Attendance, Employment, HealthCheck, SignInAttempt, Worker
from store.people import enroll
from store.people.seed import ELIGIBLE, SHARES, seed_demo
from store.reasons import Outcome, Reason, Way
from store.rules.policy import Policy
from store.rules.signin import SignInService, code_hash, evaluate, load_facts

# 08:00 in Shanghai on 2026-11-25
AT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


@pytest.fixture
def world(any_url: str):  # type: ignore[no-untyped-def]
    """A project, an employer and a fully eligible worker; returns (engine, ids)."""
    engine = make_engine(any_url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="测试项目", latitude=31.2, longitude=121.5)
        other = enroll.add_project(session=s, name="别的项目", latitude=31.3, longitude=121.4)
        em = enroll.add_employer(session=s, name="上海测试建设有限公司")
        inst = enroll.add_health_institution(session=s, name="测试体检中心")
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        e = make_eligible(s, w, employer=em, project=p, today=TODAY, institution=inst)
        s.commit()
        ids = {"project": p.id, "other": other.id, "worker": w.id, "employment": e.id, "employer": em.id}
    yield engine, ids
    engine.dispose()


def _attendances(engine) -> int:  # type: ignore[no-untyped-def]
    with session(engine) as s:
        return int(s.exec(select(func.count()).select_from(Attendance)).one())


def test_eligible_worker_signs_in_then_already(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = SignInService(engine)
    r = svc.sign_in(ids["worker"], ids["project"], at=AT, token="TOKEN-1")
    assert r.outcome is Outcome.SIGNED_IN and r.reason is None
    assert r.work_date == TODAY
    assert r.worker is not None and r.worker.name == "张伟" and r.worker.id_masked == "**************0011"
    assert r.worker.employer == "上海测试建设有限公司" and r.worker.team == "钢筋班组"
    again = svc.sign_in(ids["worker"], ids["project"], at=AT + timedelta(minutes=3))
    assert again.outcome is Outcome.ALREADY
    assert again.first_at == AT and again.attendance_id == r.attendance_id
    assert "今日已签到 08:00" in again.message("zh")
    assert _attendances(engine) == 1
    with session(engine) as s:
        attempts = s.exec(select(SignInAttempt).order_by(SignInAttempt.at)).all()
        assert [a.outcome for a in attempts] == ["signed_in", "already"]
        assert attempts[0].code_hash == code_hash("TOKEN-1") and "TOKEN-1" not in str(
            attempts[0].model_dump()
        )


def test_attempt_is_durable_before_result(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    r = SignInService(engine).sign_in(ids["worker"], ids["project"], at=AT)
    other = make_engine(str(engine.url.render_as_string(hide_password=False)))
    with session(other) as s:  # a fresh connection sees it: it was committed
        att = s.get(Attendance, r.attendance_id)
        assert att is not None and att.way == "B" and att.first_at == AT
    other.dispose()


def test_work_date_is_shanghai_local(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 07:30 on the 25th in Shanghai
    r = SignInService(engine).sign_in(ids["worker"], ids["project"], at=late)
    assert r.work_date == date(2026, 11, 25)


def _mutate(engine, ids, fn) -> None:  # type: ignore[no-untyped-def]
    with session(engine) as s:
        fn(s, ids)
        s.commit()


def _w(s, ids) -> Worker:  # type: ignore[no-untyped-def]
    return s.get(Worker, ids["worker"])


def _e(s, ids) -> Employment:  # type: ignore[no-untyped-def]
    return s.get(Employment, ids["employment"])


def _h(s, ids) -> HealthCheck:  # type: ignore[no-untyped-def]
    return s.exec(select(HealthCheck).where(HealthCheck.worker_id == ids["worker"])).one()


def _set(obj_fn, **values):  # type: ignore[no-untyped-def]
    def apply(s, ids):  # type: ignore[no-untyped-def]
        obj = obj_fn(s, ids)
        for k, v in values.items():
            setattr(obj, k, v)
        s.add(obj)

    return apply


REFUSALS = [
    (Reason.REALNAME_INCOMPLETE, _set(_w, realname_verified_at=None)),
    (Reason.NO_BANK_CARD, _set(_w, has_bank_card=False)),
    (Reason.NO_HEALTH_CHECK, _set(_h, deleted_at=AT)),
    (Reason.HEALTH_CHECK_FAILED, _set(_h, passed=False)),
    (Reason.HEALTH_CHECK_EXPIRED, _set(_h, checked_on=TODAY - timedelta(days=400))),
    (Reason.HEALTH_CHECK_EXPIRED, _set(_h, valid_until=TODAY - timedelta(days=1))),
    (Reason.NOT_EMPLOYED_ON_PROJECT, _set(_e, deleted_at=AT)),
    (Reason.EMPLOYMENT_NOT_CONFIRMED, _set(_e, confirmed_at=None)),
    (Reason.EMPLOYMENT_NOT_STARTED, _set(_e, start_date=TODAY + timedelta(days=3))),
    (Reason.EMPLOYMENT_ENDED, _set(_e, end_date=TODAY - timedelta(days=1))),
    (Reason.AGE_POLICY, _set(_w, birth_date=date(2010, 1, 1))),  # 16
    (Reason.AGE_POLICY, _set(_w, birth_date=date(1960, 1, 1))),  # a man of 66
]


@pytest.mark.parametrize(
    ("reason", "change"), REFUSALS, ids=[f"{r.value}-{i}" for i, (r, _) in enumerate(REFUSALS)]
)
def test_each_refusal(world, reason: Reason, change) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    _mutate(engine, ids, change)
    r = SignInService(engine).sign_in(ids["worker"], ids["project"], at=AT)
    assert r.outcome is Outcome.REFUSED and r.reason is reason
    if reason is Reason.AGE_POLICY:  # the officer sees his age, not only that it is not allowed
        assert r.worker is not None and r.worker.birth_date is not None and r.work_date is not None
        age = (
            r.work_date.year
            - r.worker.birth_date.year
            - ((r.work_date.month, r.work_date.day) < (r.worker.birth_date.month, r.worker.birth_date.day))
        )
        assert (
            r.message("zh") == f"{reason.zh}（本人 {age} 岁）"
            and r.message("en") == f"{reason.en} (he is {age})"
        )
    else:
        assert r.message("zh") == reason.zh and r.message("en") == reason.en
    assert _attendances(engine) == 0
    with session(engine) as s:
        attempt = s.exec(select(SignInAttempt)).one()
        assert attempt.outcome == "refused" and attempt.reason == reason.value


def test_not_employed_on_other_project(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    r = SignInService(engine).sign_in(ids["worker"], ids["other"], at=AT)
    assert r.reason is Reason.NOT_EMPLOYED_ON_PROJECT


def test_unknown_worker_and_project(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = SignInService(engine)
    assert svc.sign_in(uuid.uuid4(), ids["project"], at=AT).reason is Reason.WORKER_UNKNOWN
    assert svc.sign_in(ids["worker"], uuid.uuid4(), at=AT).reason is Reason.PROJECT_UNKNOWN
    r = svc.record_refusal(Reason.CODE_EXPIRED, project_id=ids["project"], at=AT, token="x")
    assert r.reason is Reason.CODE_EXPIRED
    with session(engine) as s:
        assert s.exec(select(func.count()).select_from(SignInAttempt)).one() == 3


@pytest.mark.parametrize(
    ("sex", "birth", "ok"),
    [
        ("M", date(2008, 11, 25), True),  # 18 today
        ("M", date(2008, 11, 26), False),  # 18 tomorrow
        ("M", date(1966, 11, 26), True),  # 59
        ("M", date(1965, 11, 26), True),  # 60: not over 60
        ("M", date(1965, 11, 25), False),  # 61 today
        ("F", date(1975, 11, 26), True),  # 50
        ("F", date(1975, 11, 25), False),  # 51
    ],
)
def test_age_policy_edges(world, sex: str, birth: date, ok: bool) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    _mutate(engine, ids, _set(_w, sex=sex, birth_date=birth))
    r = SignInService(engine).sign_in(ids["worker"], ids["project"], at=AT)
    assert (r.outcome is Outcome.SIGNED_IN) is ok, r.reason


def test_age_policy_configurable(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    _mutate(engine, ids, _set(_w, birth_date=date(1960, 1, 1)))
    r = SignInService(engine, Policy(max_age_male=70)).sign_in(ids["worker"], ids["project"], at=AT)
    assert r.outcome is Outcome.SIGNED_IN


def test_health_validity_policy_off(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    _mutate(engine, ids, _set(_h, checked_on=TODAY - timedelta(days=800)))
    r = SignInService(engine, Policy(health_valid_days=0)).sign_in(ids["worker"], ids["project"], at=AT)
    assert r.outcome is Outcome.SIGNED_IN


def test_way_a_officer_must_be_assigned(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    with session(engine) as s:
        from store.db.models import Project

        o = enroll.add_officer(session=s, name="签到员甲")
        p = s.get(Project, ids["other"])
        enroll.assign_officer(session=s, officer=o, project=p)
        s.commit()
    r = SignInService(engine).sign_in(ids["worker"], ids["project"], way=Way.A, officer_id=o.id, at=AT)
    assert r.reason is Reason.OFFICER_NOT_ASSIGNED


def test_readiness_lists_every_rule(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    _mutate(engine, ids, _set(_w, has_bank_card=False))
    with session(engine) as s:
        verdicts = dict(evaluate(load_facts(s, ids["worker"], ids["project"], TODAY), Policy()))
    assert verdicts == {
        "realname": None,
        "bank_card": Reason.NO_BANK_CARD,
        "health": None,
        "employment": None,
        "age": None,
    }


def test_seeded_examples_fail_as_documented(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    summary = seed_demo(engine, workers=400, projects=2, seed=7, today=TODAY, examples=3)
    assert summary["counts"]["by_kind"][ELIGIBLE] == 400 - sum(round(400 * s) for s in SHARES.values())
    svc = SignInService(engine)
    project = uuid.UUID(summary["examples_project"])
    for kind, workers in summary["examples"].items():
        assert workers, kind
        for wid in workers:
            r = svc.sign_in(uuid.UUID(wid), project, at=AT)
            expected = Outcome.SIGNED_IN if kind == ELIGIBLE else Outcome.REFUSED
            assert r.outcome is expected, (kind, r.reason)
            if kind != ELIGIBLE:
                assert r.reason is Reason(kind)
    engine.dispose()


def test_seed_is_deterministic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from store.db.migrate import upgrade_engine

    out = []
    for name in ("a", "b"):
        e = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade_engine(e)
        out.append(seed_demo(e, workers=50, projects=1, seed=3, today=TODAY))
        e.dispose()
    assert out[0] == out[1]


def test_attempt_keeps_its_latency(world) -> None:  # type: ignore[no-untyped-def]
    import time

    engine, ids = world
    r = SignInService(engine).sign_in(
        ids["worker"], ids["project"], at=AT, latency_from=time.monotonic() - 0.05
    )
    with session(engine) as s:
        attempt = s.get(SignInAttempt, r.attempt_id)
        assert attempt is not None and attempt.latency_ms is not None and attempt.latency_ms >= 50


def test_cached_facts_follow_every_change_of_them(sqlite_url: str) -> None:
    """A worker's eligibility facts are cached by the service (store/rules/facts.py) and read afresh when
    an ORM write changes them, when the pull says it wrote (reference_changed: it writes with Core), and
    when the stored pull cursor moved (a pull by another process)."""
    from sqlalchemy import update

    from store.db.changes import reference_changed
    from store.sync.state import PULL_REV, write_state

    engine = make_engine(sqlite_url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="测试项目", latitude=31.2, longitude=121.5)
        em = enroll.add_employer(session=s, name="上海测试建设有限公司")
        inst = enroll.add_health_institution(session=s, name="测试体检中心")
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        make_eligible(s, w, employer=em, project=p, today=TODAY, institution=inst)
        s.commit()
        worker, project = w.id, p.id
    svc = SignInService(engine)

    def outcome(minutes: int) -> Reason | None:
        return svc.sign_in(worker, project, at=AT + timedelta(minutes=minutes)).reason

    def core_set(**values: object) -> None:  # as the pull writes: Core, no ORM event
        with engine.begin() as conn:
            conn.execute(update(Worker).where(Worker.id == worker).values(**values))

    _mutate(engine, {"worker": worker}, _set(_w, has_bank_card=False))
    assert outcome(0) is Reason.NO_BANK_CARD
    assert outcome(1) is Reason.NO_BANK_CARD and svc.facts.hits == 1  # the second scan from the cache
    _mutate(engine, {"worker": worker}, _set(_w, has_bank_card=True))  # an ORM write
    core_set(realname_verified_at=None)
    assert outcome(2) is Reason.REALNAME_INCOMPLETE  # read afresh: the ORM write moved the generation
    core_set(realname_verified_at=AT)
    reference_changed(engine)  # what the pull calls after writing
    core_set(has_bank_card=False)
    assert outcome(3) is Reason.NO_BANK_CARD
    core_set(has_bank_card=True)
    with engine.begin() as conn:  # a pull by another process: only the cursor it stored tells
        write_state(conn, {PULL_REV: "42"})
    assert outcome(4) is None  # signed in
    assert _attendances(engine) == 1
    engine.dispose()
