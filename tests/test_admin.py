"""The admin app, driven with Pilot: a worker enrolled from nothing to a code that signs him in, the
readiness panel for a worker missing each item, and the bad-input paths. Every person is synthetic."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from stdnum.cn import ric
from support.admin_pilot import error_of, fill, first_of, settle
from support.async_tests import run_async
from textual.widgets import Button, DataTable, Input, Select, Static

from kiosk.admin.app import AdminApp, build_app
from kiosk.admin.forms import FormScreen
from kiosk.admin.workers import VerifyScreen, WorkersScreen
from kiosk.config import Config
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import CodeError, TrustList, Verifier, issue_code
from store.db.engine import make_engine, session, write_session
from store.db.models import (
    AuditLog,
    BankCard,
    Employer,
    Employment,
    FaceCheck,
    IdentityDocument,
    Project,
    Worker,
)
from store.people.enroll import (
    add_bank_card,
    add_employer,
    add_employment,
    add_face_check,
    add_health_check,
    add_health_institution,
    add_project,
    add_worker,
    confirm_employment,
    set_identity_images,
    verify_realname,
)
from store.reasons import Outcome, Reason, Role
from store.rules.signin import SignInService
from store.timeutil import local_date, utcnow

SIZE = (160, 50)


def id_number(born: date, seq: int) -> str:
    body = f"310104{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def astronaut_video(path: Path) -> str:
    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (512, 512))
    for f in (np.full_like(face, 128), face, face):
        out.write(f)
    out.release()
    return str(path)


def workers_screen(app: AdminApp) -> WorkersScreen:
    assert isinstance(app.screen, WorkersScreen)
    return app.screen


def panel(app: AdminApp) -> str:
    return str(workers_screen(app).query_one("#readiness", Static).render())


@run_async
async def test_a_worker_enrolled_from_nothing_signs_in(engine: Engine, tmp_path: Path) -> None:
    video = astronaut_video(tmp_path / "face.avi")
    front, back = tmp_path / "front.png", tmp_path / "back.png"
    cv2.imwrite(str(front), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(back), np.full((300, 480, 3), 200, np.uint8))
    number = id_number(date(1985, 6, 15), 11)
    app = build_app(engine, Config(), actor="管理员甲", camera=video, face_frames=5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # reference data: an employer, a project, a health institution, an issuer key
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("a")
        await fill(pilot, name="上海示例建设有限公司")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("a")
        form = await fill(pilot, name="示例项目", latitude="31.2304", longitude="abc")
        assert "纬度" in error_of(form) or "经度" in error_of(form)  # a bad number: said, nothing lost
        assert form.query_one("#f-name", Input).value == "示例项目"
        await fill(pilot, longitude="121.4737", radius_m="200")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("a")
        await fill(pilot, name="上海市示例体检中心", district="黄浦区")
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("g")
        await fill(pilot, folder=str(tmp_path / "keys"), note="test")

        # the worker
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("a")
        form = await fill(pilot, id_number=number[:-1] + ("0" if number[-1] != "0" else "1"), name="测试工人")
        assert "校验位" in error_of(form) and "check character" in error_of(form)
        await fill(pilot, id_number=number)
        screen = workers_screen(app)
        assert screen.current is not None
        worker_id = screen.current
        assert "**************" + number[-4:] in str(screen.query_one("#file", Static).render())
        assert number not in str(screen.query_one("#file", Static).render())
        assert "不能签到" in panel(app)

        await pilot.press("i")
        form = await fill(
            pilot, front=str(front), back=str(back), valid_from="2020-01-01", valid_until="2019-01-01"
        )
        assert "有效期限" in error_of(form)
        await fill(pilot, authority="上海市公安局黄浦分局", valid_until="2040-01-01")
        await pilot.press("K")  # the back again, from the webcam this time
        await settle(pilot)
        await pilot.press("f")  # face capture from the video: the astronaut, one face
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        await pilot.press("b")
        await fill(pilot, card_number="6222020200112233445", **first_of(pilot, "bank"))
        await pilot.press("h")
        await settle(pilot)
        # nothing chosen for the administrator: each empty required field is said next to it
        form = await fill(pilot)
        said = error_of(form)
        assert all(f"请填写“{w}”" in said for w in ("体检机构", "体检日期", "体检结论")), said
        assert isinstance(app.screen, FormScreen)
        await fill(pilot, checked_on=date.today().isoformat(), passed="yes", **first_of(pilot, "institution"))
        await pilot.press("m")
        await settle(pilot)
        await fill(
            pilot,
            team="钢筋班组",
            trade="钢筋工",
            start_date=(date.today() - timedelta(days=3)).isoformat(),
            **first_of(pilot, "employer", "project"),
        )
        assert "聘用信息未确认" in panel(app)
        await pilot.press("c")
        await settle(pilot)
        await fill(pilot, **first_of(pilot, "employment"))
        assert "可以签到" in panel(app), panel(app)
        assert "✗" not in panel(app)

    with session(engine) as s:
        w = s.get(Worker, worker_id)
        assert w is not None and w.realname_verified_by == "管理员甲" and w.has_bank_card and w.face_thumb
        doc = s.exec(select(IdentityDocument).where(IdentityDocument.worker_id == worker_id)).one()
        assert doc.front_image and doc.back_image and doc.issuing_authority == "上海市公安局黄浦分局"
        assert (doc.valid_from, doc.valid_until) == (date(2020, 1, 1), date(2040, 1, 1))
        back_image = cv2.imdecode(np.frombuffer(doc.back_image, np.uint8), cv2.IMREAD_COLOR)
        assert back_image is not None and back_image.shape == (
            512,
            512,
            3,
        )  # the camera's frame, not the file
        fc = s.exec(select(FaceCheck).where(FaceCheck.worker_id == worker_id)).one()
        assert fc.faces_found == 1 and fc.verified and fc.verified_by == "管理员甲" and fc.verified_at
        card = s.exec(select(BankCard).where(BankCard.worker_id == worker_id)).one()
        assert card.card_masked == "6222***********3445" and card.holder_name == "测试工人"
        emp = s.exec(select(Employment).where(Employment.worker_id == worker_id)).one()
        assert emp.confirmed_at is not None
        project = s.exec(select(Project)).one()
        assert (project.latitude, project.longitude, project.radius_m) == (31.2304, 121.4737, 200.0)
        actors = {a.actor for a in s.exec(select(AuditLog))}
        assert "管理员甲" in actors and "管理员甲 (in person)" in actors
        for a in s.exec(select(AuditLog)):
            assert number not in (a.detail or "")  # no ID number in the audit trail

    key = IssuerPrivateKey.load(tmp_path / "keys" / "issuer.key")
    token = issue_code(key, role=Role.WORKER, subject=worker_id)
    ident = Verifier(TrustList.from_engine(engine)).verify(token, role=Role.WORKER)
    result = SignInService(engine).sign_in(ident.subject, project.id, kid=ident.kid, token=token)
    assert result.outcome is Outcome.SIGNED_IN, result.reason


# --- readiness ---------------------------------------------------------------------------------------


def enrol_ready(s: Session, name: str, seq: int, *, born: date = date(1985, 6, 15), skip: str = "") -> None:
    """A worker with everything but ``skip`` (one of the readiness items)."""
    employer = s.exec(select(Employer)).first()
    project = s.exec(select(Project)).first()
    assert employer is not None and project is not None
    w = add_worker(session=s, id_number=id_number(born, seq), name=name)
    if skip != "realname":
        set_identity_images(session=s, worker=w, front=b"\xff\xd8front")
        add_face_check(session=s, worker=w, photo=b"\xff\xd8face", thumb=None, faces_found=1)
        verify_realname(session=s, worker=w, by="tester")
    if skip != "bank":
        add_bank_card(session=s, worker=w, bank_name="中国银行", card_number="6222020200112233445")
    today = local_date(utcnow())
    if skip == "health_expired":
        add_health_check(
            session=s, worker=w, checked_on=today - timedelta(days=400), institution_other="某医院"
        )
    elif skip == "health_failed":
        add_health_check(session=s, worker=w, checked_on=today, institution_other="某医院", passed=False)
    elif skip != "health":
        add_health_check(session=s, worker=w, checked_on=today, institution_other="某医院")
    if skip != "employment":
        # add_employment with this form test's values (alike other worlds' in shape only).
        e = add_employment(
            session=s,
            worker=w,
            employer=employer,
            project=project,
            team="木工班组",
            trade="木工",
            start_date=today - timedelta(days=1),
        )
        if skip != "confirmed":
            confirm_employment(session=s, employment=e)


CASES = [
    ("齐全", "", None),
    ("缺实名", "realname", Reason.REALNAME_INCOMPLETE),
    ("缺银行卡", "bank", Reason.NO_BANK_CARD),
    ("缺体检", "health", Reason.NO_HEALTH_CHECK),
    ("体检过期", "health_expired", Reason.HEALTH_CHECK_EXPIRED),
    ("体检不合格", "health_failed", Reason.HEALTH_CHECK_FAILED),
    ("未聘用", "employment", Reason.NOT_EMPLOYED_ON_PROJECT),
    ("未确认", "confirmed", Reason.EMPLOYMENT_NOT_CONFIRMED),
    ("超龄", "age", Reason.AGE_POLICY),
]


def test_readiness_panel_names_what_each_worker_is_missing(any_url: str) -> None:
    engine = make_engine(any_url)
    try:
        asyncio.run(_readiness(engine))
    finally:
        engine.dispose()


async def _readiness(engine: Engine) -> None:
    with write_session(engine) as s:
        add_employer(session=s, name="上海示例建设有限公司")
        add_project(session=s, name="示例项目")
        add_health_institution(session=s, name="上海市示例体检中心")
    for i, (name, skip, _) in enumerate(CASES):
        with write_session(engine) as s:
            enrol_ready(
                s,
                name,
                100 + 2 * i + 1,
                born=date(1950, 3, 3) if skip == "age" else date(1985, 6, 15),
                skip=skip,
            )
    app = build_app(engine, Config(), actor="管理员乙")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for name, skip, reason in CASES:
            workers_screen(app).query_one("#search", Input).value = name
            await settle(pilot)
            text = panel(app)
            assert "示例项目" in text or skip == "employment"
            if reason is None:
                assert "可以签到" in text and "✗" not in text, text
            else:
                assert "不能签到" in text and reason.zh in text, (name, text)
                failing = [line for line in text.splitlines() if "✗" in line]
                # only what is missing fails; without real-name data the ID images and face photo steps fail too
                assert len(failing) == (3 if skip == "realname" else 1), text


@run_async
async def test_english_labels_and_a_holder_who_is_not_the_worker(engine: Engine) -> None:
    with write_session(engine) as s:
        add_worker(session=s, id_number=id_number(date(1990, 1, 2), 21), name="测试乙")
    app = build_app(engine, Config(language="en"), actor="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "cannot sign in" in panel(app)
        await pilot.press("b")
        form = await fill(
            pilot, card_number="6222020200112233445", holder_name="别人", **first_of(pilot, "bank")
        )
        assert "holder must be the worker" in error_of(form)
        await fill(pilot, holder_name="")
        await settle(pilot)
        await pilot.press("f")  # no camera here: a clear error, nothing written
        await settle(pilot)
    with session(engine) as s:
        assert s.exec(select(FaceCheck)).first() is None
        assert s.exec(select(BankCard)).one().holder_name == "测试乙"


@run_async
async def test_keys_duplicates_renames_and_the_audit_screen(engine: Engine, tmp_path: Path) -> None:
    number = id_number(date(1979, 9, 9), 33)
    app = build_app(engine, Config(), actor="管理员丙")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("g")
        await fill(pilot, folder=str(tmp_path / "k1"))
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)

        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("a")
        await fill(pilot, id_number=number, name="测试丙")
        await pilot.press("a")
        form = await fill(pilot, id_number=number, name="测试丙")
        assert "已登记" in error_of(form) and "already enrolled" in error_of(form)
        form.query_one("#cancel", Button).press()
        await settle(pilot)
        worker_id = workers_screen(app).current
        assert worker_id is not None
        with write_session(engine) as s:
            w = s.get(Worker, worker_id)
            assert w is not None
            set_identity_images(session=s, worker=w, front=b"\xff\xd8front")
            add_face_check(session=s, worker=w, photo=b"\xff\xd8face", thumb=None, faces_found=1)
        await pilot.press("v")
        await settle(pilot)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        with session(engine) as s:
            w = s.get(Worker, worker_id)
            assert w is not None and w.realname_verified_by == "管理员丙"
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, name="测试丙改", mobile="13912345678")
        with session(engine) as s:
            w = s.get(Worker, worker_id)
            assert w is not None and (w.name, w.mobile) == ("测试丙改", "13912345678")
            assert w.realname_verified_at is None  # a new name must be compared with the ID card again

        await pilot.press("f7")
        await settle(pilot)
        table = app.screen.query_one("#table", DataTable)
        cells = [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]
        assert "管理员丙" in cells and "吊销" in cells and "撤销实名认证" in cells  # the codes in words
        assert number not in " ".join(cells)

    key = IssuerPrivateKey.load(tmp_path / "k1" / "issuer.key")
    token = issue_code(key, role=Role.WORKER, subject=worker_id)
    with pytest.raises(CodeError) as err:
        Verifier(TrustList.from_engine(engine)).verify(token, role=Role.WORKER)
    assert err.value.reason is Reason.CODE_KEY_REVOKED


def test_admin_command_on_a_database_without_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    assert main(["admin", "--db", str(tmp_path / "empty.db")]) == 2
    err = capsys.readouterr().err
    assert "kiosk db upgrade" in err and "Traceback" not in err


@run_async
async def test_dialogs_fit_small_terminals_focus_the_first_field_and_say_errors_beside_the_field(
    engine: Engine,
) -> None:
    """At 80×24: the add dialog opens on its first field; a bad ID number is said under that field, which
    gets the focus, with Save in view; the bank card's Luhn warning shows while typing, before saving."""
    with write_session(engine) as s:
        add_worker(session=s, id_number=id_number(date(1985, 6, 15), 12), name="测试工")
    app = build_app(engine, Config(), actor="管理员甲")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.focused is form.query_one("#f-id_number", Input)
        bad = id_number(date(1990, 3, 7), 5)[:-1] + (
            "0" if id_number(date(1990, 3, 7), 5)[-1] != "0" else "1"
        )
        await pilot.press(*bad, "tab", *"张三", "enter")
        await settle(pilot)
        line = form.query_one("#e-id_number", Static)
        assert line.display and "校验位" in str(line.render()) and "check character" in str(line.render())
        assert form.focused is form.query_one("#f-id_number", Input)
        for widget in (line, form.query_one("#submit", Button), form.query_one("#cancel", Button)):
            assert widget.region.bottom <= 24 and widget.region.right <= 80, widget  # on screen
            assert widget.region.area > 0
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("b")  # the bank card of the chosen worker
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.focused is form.query_one("#f-bank", Select)
        await pilot.press("tab", *"6222020000000000001")  # fails Luhn
        await pilot.pause()
        warn = form.query_one("#e-card_number", Static)
        assert warn.display and "Luhn" in str(warn.render())
        assert warn.region.bottom <= 24
        with Session(engine) as s:
            assert s.exec(select(BankCard)).first() is None
