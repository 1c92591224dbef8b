"""出场 and 进场 (store/rules/direction.py): departures, 自动 mode and its repeat window, departures without
an entry, the automatic close at the project's close time and the supervisor's correction (补录) — on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select
from support.eligible import make_eligible

from store.db.engine import make_engine, session
from store.db.models import AuditLog, Departure, HealthCheck, SignInAttempt
from store.people import enroll
from store.reasons import Outcome, Reason
from store.rules.direction import (
    CorrectionError,
    DirectionService,
    GateMode,
    Method,
    close_forgotten,
    correct_departure,
)
from store.rules.signin import SignInService

AT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
TODAY = date(2026, 11, 25)


@pytest.fixture
def world(any_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(any_url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="测试项目", latitude=31.2, longitude=121.5)
        em = enroll.add_employer(session=s, name="上海测试建设有限公司")
        inst = enroll.add_health_institution(session=s, name="测试体检中心")
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        make_eligible(s, w, employer=em, project=p, today=TODAY, institution=inst)
        w2 = enroll.add_worker(session=s, id_number="310104199202020021", name="李娜")
        make_eligible(s, w2, employer=em, project=p, today=TODAY, institution=inst)
        s.commit()
        ids = {"project": p.id, "worker": w.id, "worker2": w2.id}
    yield engine, ids
    engine.dispose()


def _departures(engine):  # type: ignore[no-untyped-def]
    with session(engine) as s:
        return list(s.exec(select(Departure).order_by(Departure.at)))


def test_sign_in_then_out_then_already(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = DirectionService(SignInService(engine))
    assert svc.pass_gate(GateMode.IN, ids["worker"], ids["project"], at=AT).outcome is Outcome.SIGNED_IN
    out = svc.pass_gate(GateMode.OUT, ids["worker"], ids["project"], at=AT + timedelta(hours=9), token="T")
    assert out.outcome is Outcome.SIGNED_OUT and not out.no_entry
    assert out.message("zh") == "签退成功 17:00" and out.message("en") == "Signed out 17:00"
    again = svc.pass_gate(GateMode.OUT, ids["worker"], ids["project"], at=AT + timedelta(hours=9, minutes=2))
    assert again.outcome is Outcome.ALREADY and again.left_at == AT + timedelta(hours=9)
    assert again.message("zh") == "今日已签退 17:00"
    rows = _departures(engine)
    assert len(rows) == 1 and rows[0].method == "scan" and rows[0].work_date == TODAY
    with session(engine) as s:
        outcomes = [a.outcome for a in s.exec(select(SignInAttempt).order_by(SignInAttempt.at))]
    assert outcomes == ["signed_in", "signed_out", "already"]


def test_departure_without_entry_is_recorded_and_flagged(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    out = DirectionService(SignInService(engine)).sign_out(ids["worker"], ids["project"], at=AT)
    assert out.outcome is Outcome.SIGNED_OUT and out.no_entry
    assert "无进场记录" in out.message("zh")
    assert _departures(engine)[0].no_entry


def test_eligibility_applies_to_entry_only(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = DirectionService(SignInService(engine))
    assert svc.pass_gate(GateMode.IN, ids["worker"], ids["project"], at=AT).outcome is Outcome.SIGNED_IN
    with session(engine) as s:  # his health check fails at noon
        for h in s.exec(select(HealthCheck).where(HealthCheck.worker_id == ids["worker"])):
            h.passed = False
            s.add(h)
        s.commit()
    out = svc.pass_gate(GateMode.OUT, ids["worker"], ids["project"], at=AT + timedelta(hours=4))
    assert out.outcome is Outcome.SIGNED_OUT
    back = svc.pass_gate(GateMode.IN, ids["worker2"], ids["project"], at=AT)
    assert back.outcome is Outcome.SIGNED_IN


def test_auto_mode_in_repeat_out(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = DirectionService(SignInService(engine), repeat_window_s=180)
    w, p = ids["worker"], ids["project"]
    assert svc.pass_gate(GateMode.AUTO, w, p, at=AT).outcome is Outcome.SIGNED_IN
    repeat = svc.pass_gate(GateMode.AUTO, w, p, at=AT + timedelta(minutes=2))
    assert repeat.outcome is Outcome.ALREADY and repeat.left_at is None  # amber, not a departure
    assert _departures(engine) == []
    out = svc.pass_gate(GateMode.AUTO, w, p, at=AT + timedelta(minutes=4))
    assert out.outcome is Outcome.SIGNED_OUT
    after = svc.pass_gate(GateMode.AUTO, w, p, at=AT + timedelta(hours=1))
    assert after.outcome is Outcome.ALREADY and after.left_at is not None


def test_unknown_worker_refused(world) -> None:  # type: ignore[no-untyped-def]
    import uuid

    engine, ids = world
    r = DirectionService(SignInService(engine)).sign_out(uuid.uuid4(), ids["project"], at=AT)
    assert r.outcome is Outcome.REFUSED and r.reason is Reason.WORKER_UNKNOWN


def test_mode_cycles_and_labels() -> None:
    assert [GateMode.IN.next(), GateMode.OUT.next(), GateMode.AUTO.next()] == [
        GateMode.OUT,
        GateMode.AUTO,
        GateMode.IN,
    ]
    assert GateMode.OUT.label("zh") == "出场" and GateMode.AUTO.label("en") == "Auto"
    assert [m.label() for m in Method] == ["扫码", "手机扫码", "自动签退", "补录"]


def test_close_forgotten_at_close_time(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    svc = DirectionService(SignInService(engine))
    w, w2, p = ids["worker"], ids["worker2"], ids["project"]
    svc.pass_gate(GateMode.IN, w, p, at=AT)
    svc.pass_gate(GateMode.IN, w2, p, at=AT)
    svc.pass_gate(GateMode.OUT, w, p, at=AT + timedelta(hours=8))
    closes = {str(p): time(18, 0)}
    early = close_forgotten(engine, now=AT + timedelta(hours=9, minutes=59), closes=closes)  # 17:59
    assert early.closed == 0
    done = close_forgotten(engine, now=AT + timedelta(hours=10, minutes=1), closes=closes)  # 18:01
    assert done.closed == 1 and done.days == ((p, TODAY, 1),)
    rows = {r.worker_id: r for r in _departures(engine)}
    assert rows[w].method == "scan" and rows[w2].method == "auto"
    assert rows[w2].at.astimezone(UTC) == AT + timedelta(hours=10)  # at the close time, not when it ran
    assert close_forgotten(engine, now=AT + timedelta(hours=12), closes=closes).closed == 0  # idempotent


def test_close_forgotten_catches_up_past_days(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    DirectionService(SignInService(engine)).pass_gate(GateMode.IN, ids["worker"], ids["project"], at=AT)
    got = close_forgotten(engine, now=AT + timedelta(days=3), default=time(20, 0))
    assert got.closed == 1 and got.days[0][1] == TODAY


def test_correction_is_manual_with_reason_and_audited(world) -> None:  # type: ignore[no-untyped-def]
    engine, ids = world
    w, p = ids["worker"], ids["project"]
    DirectionService(SignInService(engine)).pass_gate(GateMode.IN, w, p, at=AT)
    close_forgotten(engine, now=AT + timedelta(hours=14), default=time(20, 0))
    row = correct_departure(
        engine,
        worker_id=w,
        project_id=p,
        on=TODAY,
        at=AT + timedelta(hours=9),
        reason="忘记签退，班组长证实",
        actor="监理王",
    )
    assert row.method == "manual" and row.note == "忘记签退，班组长证实" and row.actor == "监理王"
    rows = _departures(engine)
    assert len(rows) == 1 and rows[0].at.astimezone(UTC) == AT + timedelta(hours=9)
    with session(engine) as s:
        log = s.exec(select(AuditLog).where(AuditLog.table_name == "departure")).one()
    assert log.action == "correct" and log.actor == "监理王" and "auto@" in (log.detail or "")
    with pytest.raises(CorrectionError):
        correct_departure(
            engine, worker_id=w, project_id=p, on=TODAY, at=AT + timedelta(hours=9), reason=" ", actor="x"
        )
    with pytest.raises(CorrectionError):  # before his entry
        correct_departure(
            engine, worker_id=w, project_id=p, on=TODAY, at=AT - timedelta(hours=1), reason="r", actor="x"
        )
