"""Way A end to end on SQLite and PostgreSQL: the officer's code, the worker's code, the place, the
rules, the record; and the ``kiosk phone signin`` command line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from support.way_a_world import AT, FAR, NEAR, TODAY, World, _text, build_world

from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import issue_code
from store.db.engine import make_engine, session
from store.db.models import Attendance
from store.reasons import Outcome, Reason, Role, Way
from store.rules.signin import SignInService, code_hash
from store.rules.way_a import way_a_arrivals


@pytest.fixture
def world(any_url: str) -> Iterator[World]:
    w = build_world(any_url)
    yield w
    w.engine.dispose()


# The way-A world on SQLite, made and disposed of per test (test_way_a_screen.py's fixture is alike).
@pytest.fixture
def sqlite_world(sqlite_url: str) -> Iterator[World]:
    w = build_world(sqlite_url)
    yield w
    w.engine.dispose()


def test_way_a_signs_in_with_the_place_then_way_b_is_already(world: World) -> None:
    r = world.sign(accuracy_m=12.0)
    assert r.outcome is Outcome.SIGNED_IN and r.reason is None and r.distance_m == 0.0
    assert r.message_zh == "签到成功" and r.message_en == "Signed in"
    [att] = world.attendances()
    assert att.way == Way.A.value and att.officer_id == world.officer and att.kiosk_id is None
    assert (att.latitude, att.longitude) == pytest.approx(NEAR)
    [attempt] = world.attempts()
    assert attempt.way == "A" and attempt.outcome == "signed_in" and attempt.accuracy_m == 12.0
    assert (
        attempt.distance_m == 0.0
        and attempt.worker_id == world.worker
        and attempt.officer_id == world.officer
    )

    # the same worker then shows his code at a kiosk (way B): already, no second record
    b = SignInService(world.engine).sign_in(
        world.worker, world.project, way=Way.B, at=AT + timedelta(minutes=5)
    )
    assert b.outcome is Outcome.ALREADY and b.first_way == "A" and b.first_at == AT
    assert "今日已签到 08:00（手机签到）" in b.message("zh")
    # and scans again by phone: already too
    again = world.sign(
        at=AT + timedelta(minutes=6),
        officer_token=world.officer_code(at=AT + timedelta(minutes=6)),
        worker_token=world.worker_code(at=AT + timedelta(minutes=6)),
    )
    assert (
        again.outcome is Outcome.ALREADY and again.ok and again.message_zh == "今日已签到 08:00（手机签到）"
    )
    assert again.message_en == "Already signed in today at 08:00 (by phone)"
    assert len(world.attendances()) == 1

    arrivals = way_a_arrivals(world.engine, world.project, TODAY)
    assert [(a.name, a.id_masked, a.distance_m) for a in arrivals] == [("张伟", "**************0011", 0.0)]


def test_outside_the_range_says_how_far(world: World) -> None:
    r = world.sign(where=FAR, accuracy_m=10.0)
    assert r.outcome is Outcome.REFUSED and r.reason is Reason.OUTSIDE_RANGE
    assert r.distance_m is not None and 350 < r.distance_m < 375
    assert f"距签到范围还有 {r.distance_m:.0f} 米" in r.message_zh and "m outside" in r.message_en
    assert world.attendances() == []
    [attempt] = world.attempts()
    assert attempt.reason == "OUTSIDE_RANGE" and attempt.distance_m == r.distance_m and attempt.way == "A"


def test_inaccurate_location_is_refused(world: World) -> None:
    r = world.sign(accuracy_m=250.0)
    assert r.reason is Reason.LOCATION_INACCURATE and "±250 米" in r.message_zh
    assert world.sign(accuracy_m=250.0, max_accuracy_m=300.0).outcome is Outcome.SIGNED_IN


def test_gcj02_position_from_a_map_app(world: World) -> None:
    import prcoords

    gcj = prcoords.wgs_gcj(NEAR)  # what 高德 would show for the same spot: ~500 m off in WGS-84 terms
    assert world.sign(where=(gcj.lat, gcj.lon), accuracy_m=10).reason is Reason.OUTSIDE_RANGE
    ok = world.sign(where=(gcj.lat, gcj.lon), accuracy_m=10, crs="gcj02")
    assert ok.outcome is Outcome.SIGNED_IN
    [att] = world.attendances()
    assert (att.latitude, att.longitude) == pytest.approx(NEAR, abs=1e-7)  # stored in WGS-84


def test_expired_officer_code(world: World) -> None:
    old = world.officer_code(at=AT - timedelta(minutes=10))
    r = world.sign(officer_token=old)
    assert r.reason is Reason.CODE_EXPIRED and r.message_zh.startswith("签到员建设码：")
    [attempt] = world.attempts()
    assert attempt.reason == "CODE_EXPIRED" and attempt.way == "A" and attempt.code_hash == code_hash(old)
    assert attempt.worker_id == world.worker  # his own code was good: the supervisor sees who tried
    assert world.attendances() == []


def test_officer_not_assigned_to_the_project(world: World) -> None:
    r = world.sign(officer_token=world.officer_code(officer=world.stranger))
    assert r.reason is Reason.OFFICER_NOT_ASSIGNED and r.project_id == world.project
    [attempt] = world.attempts()
    assert attempt.officer_id == world.stranger and attempt.project_id == world.project
    # an officer code for a project he is assigned to, but the worker is not employed there
    r2 = world.sign(
        officer_token=world.officer_code(officer=world.stranger, project=world.other), where=(31.3, 121.4)
    )
    assert r2.reason is Reason.NOT_EMPLOYED_ON_PROJECT


def test_unknown_officer_and_unknown_project(world: World) -> None:
    assert world.sign(officer_token=world.officer_code(officer=uuid.uuid4())).reason is Reason.OFFICER_UNKNOWN
    r = world.sign(officer_token=world.officer_code(project=uuid.uuid4()))
    assert r.reason is Reason.PROJECT_UNKNOWN
    assert world.attempts()[-1].project_id is None


def test_worker_code_where_an_officer_code_is_expected(world: World) -> None:
    worker_code = world.worker_code()
    r = world.sign(officer_token=worker_code, worker_token=worker_code)
    assert r.reason is Reason.CODE_WRONG_ROLE and r.message_zh.startswith("签到员建设码：")
    # and the officer's code given as the worker's own
    r2 = world.sign(worker_token=world.officer_code())
    assert r2.reason is Reason.CODE_WRONG_ROLE and r2.message_en.startswith("Your code: ")
    assert world.attendances() == []
    assert [a.reason for a in world.attempts()] == ["CODE_WRONG_ROLE", "CODE_WRONG_ROLE"]


def test_forged_officer_code(world: World) -> None:
    stranger_key = IssuerPrivateKey.generate()  # not in the trust list
    forged = _text(
        issue_code(
            stranger_key,
            role=Role.OFFICER,
            subject=world.officer,
            project=world.project,
            at=AT,
            validity_s=120,
        )
    )
    r = world.sign(officer_token=forged)
    assert r.reason in (Reason.CODE_UNKNOWN_KEY, Reason.CODE_INVALID) and not r.ok
    assert world.sign(officer_token="garbage").reason is Reason.CODE_INVALID


def test_worker_rules_still_apply(world: World) -> None:
    with session(world.engine) as s:
        from store.db.models import Worker

        w = s.get(Worker, world.worker)
        assert w is not None
        w.has_bank_card = False
        s.add(w)
        s.commit()
    r = world.sign()
    assert r.reason is Reason.NO_BANK_CARD and r.message_zh == Reason.NO_BANK_CARD.zh


def test_bad_input_records_nothing(world: World) -> None:
    from store.errors import ValidationError

    with pytest.raises(ValidationError):
        world.sign(where=(95.0, 121.0))
    with pytest.raises(ValidationError):
        world.sign(accuracy_m=-1.0)
    with pytest.raises(ValidationError):
        world.sign(crs="bd09")
    assert world.attempts() == []


# --- the command line ----------------------------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object] | None, str]:
    from kiosk.cli import main

    rc = main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.strip()]
    return rc, (json.loads(lines[-1]) if lines else None), err


def test_cli_signin_with_a_photo_of_the_officer_screen(
    sqlite_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import qrcode

    w = sqlite_world
    now = datetime.now(UTC)
    officer = w.officer_code(at=now)
    photo = tmp_path / "officer.png"
    qrcode.make(officer).save(photo)
    base = ["phone", "signin", "--worker-code", w.worker_code(at=now), "--db", w.url]
    rc, out, _ = run_cli(
        [*base, "--scan", str(photo), "--at", "31.2310,121.4740", "--accuracy", "20"], capsys
    )
    assert rc == 0 and out is not None
    assert out["outcome"] == "signed_in" and out["reason"] is None and out["distance_m"] == 0.0
    assert out["message_zh"] == "签到成功" and out["message_en"] == "Signed in"
    # again with the token text: already, still exit 0
    rc, out, _ = run_cli([*base, "--scan", officer, "--at", "31.2310,121.4740"], capsys)
    assert rc == 0 and out is not None and out["outcome"] == "already"


def test_cli_refusal_and_bad_input(
    sqlite_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = sqlite_world
    now = datetime.now(UTC)
    base = [
        "phone",
        "signin",
        "--worker-code",
        w.worker_code(at=now),
        "--db",
        w.url,
        "--scan",
        w.officer_code(at=now),
    ]
    rc, out, _ = run_cli([*base, "--at", "31.2350,121.4737"], capsys)
    assert rc == 1 and out is not None and out["outcome"] == "refused" and out["reason"] == "OUTSIDE_RANGE"
    assert isinstance(out["distance_m"], float) and out["distance_m"] > 300
    assert "米" in str(out["message_zh"]) and "m outside" in str(out["message_en"])

    rc, out, err = run_cli([*base, "--at", "north,east"], capsys)
    assert rc == 2 and out is None and "LAT,LON" in err and "Traceback" not in err
    blank = tmp_path / "blank.png"
    import numpy as np
    from PIL import Image

    Image.fromarray(np.full((200, 200, 3), 255, dtype=np.uint8)).save(blank)
    rc, out, err = run_cli([*base[:-2], "--scan", str(blank), "--at", "31.2310,121.4740"], capsys)
    assert rc == 2 and "No readable QR code" in err
    rc, out, err = run_cli(
        [*base[:-2], "--scan", str(tmp_path / "missing.png"), "--at", "31.2310,121.4740"], capsys
    )
    assert rc == 2 and "not found" in err
    assert len(w.attempts()) == 1  # only the real refusal was recorded


# --- the kiosk sees it after sync ----------------------------------------------------------------


def test_way_a_record_reaches_the_kiosk_after_sync(world: World, tmp_path: Path) -> None:
    from store.db.migrate import upgrade_engine
    from store.sync.rounds import sync_once

    kiosk = make_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    upgrade_engine(kiosk)
    try:
        assert sync_once(kiosk, world.engine).ok  # the kiosk gets the reference data
        now = datetime.now(UTC).replace(microsecond=0)
        r = world.sign(
            at=now, officer_token=world.officer_code(at=now), worker_token=world.worker_code(at=now)
        )
        assert r.outcome is Outcome.SIGNED_IN  # on the shared database, from the phone
        report = sync_once(kiosk, world.engine)
        assert report.ok, report
        with session(kiosk) as s:
            [att] = s.exec(select(Attendance)).all()
            assert att.way == "A" and att.officer_id == world.officer and att.id == r.result.attendance_id  # type: ignore[union-attr]
        # the worker then shows his code at the kiosk gate (way B): already, made by phone
        b = SignInService(kiosk).sign_in(
            world.worker, world.project, way=Way.B, at=now + timedelta(minutes=2)
        )
        assert b.outcome is Outcome.ALREADY and b.first_way == "A" and b.first_at == now
        assert "手机签到" in b.message("zh")
        assert way_a_arrivals(kiosk, world.project, b.work_date)[0].worker_id == world.worker  # type: ignore[arg-type]
    finally:
        kiosk.dispose()


def test_way_a_sign_out_where_the_project_allows_it(sqlite_world: World) -> None:
    """签退 by phone (出场): refused where the project takes none, recorded as 手机扫码 where it does, and
    outside the range refused like a sign-in."""
    from store.db.models import Departure

    w = sqlite_world
    assert w.sign().outcome is Outcome.SIGNED_IN
    later = AT + timedelta(hours=8)

    def out(where: tuple[float, float] = NEAR, allowed: tuple[str, ...] = ("*",)):  # type: ignore[no-untyped-def]
        return w.sign(
            at=later,
            where=where,
            officer_token=w.officer_code(at=later),
            worker_token=w.worker_code(at=later),
            direction="out",
            signout_projects=allowed,
        )

    no = out(allowed=())
    assert no.outcome is Outcome.REFUSED and no.reason is Reason.SIGNOUT_NOT_ALLOWED
    far = out(where=FAR)
    assert far.outcome is Outcome.REFUSED and far.reason is Reason.OUTSIDE_RANGE
    ok = out(allowed=(str(w.project),))
    assert ok.outcome is Outcome.SIGNED_OUT and ok.message_zh == "签退成功 16:00"
    with session(w.engine) as s:
        [dep] = list(s.exec(select(Departure)))
    assert dep.method == "phone" and (dep.latitude, dep.longitude) == pytest.approx(NEAR)
