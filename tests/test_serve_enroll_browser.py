"""The enrollment pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) at
360×640, every asset from our own service: each step done by tapping and typing as a worker would, and
each bad input answered in the page in Chinese (and English after the switch) with everything typed and
chosen still there and nothing saved. ``KIOSK_SCREENSHOTS=docs`` writes the README's screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select
from support.browser import (
    bind_in_browser,
    need_chromium,
    own_assets_only,
    phone,
    playwright_fixture,  # noqa: F401  (the fixture `playwright`)
    shot,
)
from support.enroll_serve_world import NEWCOMER, NEWCOMER_ID, EnrollWorld, build_enroll_world
from support.enroll_world import (
    face_jpeg,
    huge_photo,
    id_card_jpeg,
    luhn_card,
    no_face_jpeg,
    text_renamed_jpg,
    two_faces_jpeg,
)

from kiosk.serve.app import create_app
from kiosk.serve.run import BackgroundServer
from store.db.engine import session, write_session
from store.db.models import (
    BankCardSubmission,
    Employment,
    HealthCheck,
    HealthCheckSubmission,
    RealnameSubmission,
    Worker,
)
from store.people.review import ReviewKind, reject
from store.timeutil import local_date, utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def ew(sqlite_url: str, tmp_path: Path) -> EnrollWorld:
    need_chromium()
    return build_enroll_world(sqlite_url, tmp_path)


@pytest.fixture
def server(ew: EnrollWorld) -> Iterator[BackgroundServer]:
    srv = BackgroundServer(create_app(ew.sw.ctx)).start()
    yield srv
    srv.stop()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, data in {
        "front.jpg": id_card_jpeg("front"),
        "back.jpg": id_card_jpeg("back"),
        "face.jpg": face_jpeg(),
        "two.jpg": two_faces_jpeg(),
        "none.jpg": no_face_jpeg(),
        "notes.jpg": text_renamed_jpg(),
        "huge.jpg": huge_photo(40),
    }.items():
        (tmp_path / name).write_bytes(data)
        out[name] = str(tmp_path / name)
    return out


def count(ew: EnrollWorld, model: type) -> int:
    with session(ew.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def choose(page: Any, field: str, path: str) -> str:
    """Choose a photo as the worker does and wait while the phone reads and shrinks it: "ready", or
    "bad" when the phone cannot read it (then refused at its field, before anything is sent)."""
    page.set_input_files(f"#{field}", path)
    box = f'.field[data-field="{field}"]'
    page.wait_for_selector(f"{box}[data-photo]", timeout=30_000)
    return str(page.get_attribute(box, "data-photo"))


def submit_and_wait(page: Any) -> str:
    """Tap 提交 and wait for the page's answer; the error it shows (at its field), or "" when sent."""
    page.click("#submit")
    page.wait_for_selector(
        '#enroll-form[data-state="done"], #enroll-form[data-state="error"]', timeout=30_000
    )  # (data-state is "sending" meanwhile)
    if page.get_attribute("#enroll-form", "data-state") == "done":
        return ""
    message = str(page.get_attribute("#enroll-form", "data-message"))
    shown = page.locator(".field-error:not([hidden]), #form-error:not([hidden])")
    assert shown.count() == 1 and shown.inner_text() == message  # said once, in the page
    return message


def test_realname_step_by_step_with_every_bad_input(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any, files: dict[str, str]
) -> None:
    browser, page = phone(playwright)
    try:
        requests = own_assets_only(page)
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        assert page.get_attribute("#step-realname", "data-state") == "todo"
        shot(page, "enroll-home")
        page.click("#step-realname a")
        page.wait_for_selector("#enroll-form")
        assert choose(page, "front_image", files["front.jpg"]) == "ready"
        assert choose(page, "back_image", files["back.jpg"]) == "ready"
        assert choose(page, "face_photo", files["face.jpg"]) == "ready"
        # a wrong check character: said at once when he leaves the field, and again on 提交
        page.fill("#id_number", NEWCOMER_ID[:-1] + "1")
        page.press("#id_number", "Tab")
        page.wait_for_selector('.field[data-field="id_number"] .field-error:not([hidden])')
        assert "身份证号码校验位错误" in page.inner_text('.field[data-field="id_number"]')
        assert "身份证号码校验位错误" in submit_and_wait(page)
        assert page.input_value("#name") == NEWCOMER  # nothing typed is lost
        assert page.is_visible("#face_photo-preview")  # nor any photo chosen
        page.fill("#id_number", NEWCOMER_ID)
        page.press("#id_number", "Tab")
        page.wait_for_selector("#from-id:not([hidden])")
        assert "男" in page.inner_text("#from-id") and "1992-03-07" in page.inner_text("#from-id")
        # two faces, then none
        choose(page, "face_photo", files["two.jpg"])
        assert "有2张人脸" in submit_and_wait(page)
        choose(page, "face_photo", files["none.jpg"])
        assert "没有找到人脸" in submit_and_wait(page)
        # a text file renamed .jpg: the phone cannot read it and says so before sending anything
        choose(page, "face_photo", files["face.jpg"])
        assert choose(page, "front_image", files["notes.jpg"]) == "bad"
        assert "无法读取" in page.inner_text('.field[data-field="front_image"] .field-error')
        # a 40 MB photo is shrunk on the phone: what goes up is the size the service keeps
        assert choose(page, "front_image", files["huge.jpg"]) == "ready"
        # the same in English (what he typed and chose comes back after the page reloads)
        page.click("header .lang")
        page.wait_for_selector("#enroll-form[data-restored]")
        assert page.input_value("#id_number") == NEWCOMER_ID
        assert choose(page, "front_image", files["notes.jpg"]) == "bad"
        assert "cannot read this photo" in page.inner_text('.field[data-field="front_image"] .field-error')
        choose(page, "face_photo", files["two.jpg"])
        assert "choose a photo" in submit_and_wait(page)  # the front is missing: never sent
        page.click("header .lang")
        page.wait_for_selector("#enroll-form[data-restored]")
        assert count(ew, RealnameSubmission) == 0  # nothing half-saved
        # all good
        choose(page, "front_image", files["front.jpg"])
        choose(page, "back_image", files["back.jpg"])
        choose(page, "face_photo", files["face.jpg"])
        page.fill("#id_number", NEWCOMER_ID)
        page.press("#id_number", "Tab")
        page.wait_for_selector("#from-id:not([hidden])")
        shot(page, "enroll-realname")
        assert submit_and_wait(page) == ""
        assert "等待管理员审核" in page.inner_text("#form-done")
        page.wait_for_url(server.url + "/enroll")
        assert page.get_attribute("#step-realname", "data-state") == "pending"
        assert "待审核" in page.inner_text("#step-realname")
        assert count(ew, RealnameSubmission) == 1
        # the administrator rejects it: the phone says why
        with write_session(ew.engine) as s:
            sub = s.exec(select(RealnameSubmission)).one()
            reject(
                session=s,
                kind=ReviewKind.REALNAME,
                submission_id=sub.id,
                by="admin",
                reason="照片模糊或不完整，请重新拍摄",
            )
        page.goto(server.url + "/")
        assert page.get_attribute("#step-realname", "data-state") == "rejected"
        assert "照片模糊或不完整" in page.inner_text("#step-realname")
        shot(page, "enroll-rejected")
        assert all(u.startswith(server.url) or u.startswith("blob:") for u in requests), requests
    finally:
        browser.close()


def test_a_name_unlike_the_verified_one(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any, files: dict[str, str]
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url)  # 张伟, verified
        page.goto(server.url + "/enroll/realname")
        for field, name in (
            ("front_image", "front.jpg"),
            ("back_image", "back.jpg"),
            ("face_photo", "face.jpg"),
        ):
            choose(page, field, files[name])
        page.fill("#id_number", "310104199001010011")
        page.fill("#name", "张玮")
        error = submit_and_wait(page)
        assert "与已实名认证的姓名“张伟”不一致" in error
        assert page.input_value("#name") == "张玮"
        assert count(ew, RealnameSubmission) == 0
    finally:
        browser.close()


def test_bank_card_with_a_bad_check_digit_confirmed(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    good = luhn_card()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/bank")
        assert page.inner_text("#holder") == NEWCOMER  # the holder is himself, not typed
        page.select_option("#bank_name", "中国建设银行")
        page.fill("#card_number", bad)
        assert "校验未通过" in submit_and_wait(page)
        assert page.is_visible("#luhn-box") and page.input_value("#card_number") == bad
        assert count(ew, BankCardSubmission) == 0
        page.check("#luhn_confirmed")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "enroll-bank")
        assert submit_and_wait(page) == ""
        page.wait_for_url(server.url + "/enroll")
        step = page.inner_text("#step-bank_card")
        assert "待审核" in step
        assert count(ew, BankCardSubmission) == 1
    finally:
        browser.close()


def test_health_check_from_the_list_or_other(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any, files: dict[str, str]
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/health")
        # nothing preselected: no institution, no date, no result (issue 27)
        assert page.input_value("#institution") == "" and page.input_value("#checked_on") == ""
        assert page.locator('input[name="passed"]:checked').count() == 0
        assert "请选择体检日期" in submit_and_wait(page)
        checked = (local_date(utcnow()) - timedelta(days=3)).isoformat()
        page.fill("#checked_on", checked)
        assert "请选择体检结论" in submit_and_wait(page)
        page.check('input[name="passed"][value="yes"]')
        page.select_option("#institution", "other")
        assert page.is_visible("#institution_other")
        assert "填写机构名称" in submit_and_wait(page)
        page.fill("#institution_other", "崇明某卫生院")
        assert "体检报告" in submit_and_wait(page)  # the report's photo is required
        assert choose(page, "report_image", files["notes.jpg"]) == "bad"
        choose(page, "report_image", files["front.jpg"])
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "enroll-health")
        assert submit_and_wait(page) == ""
        page.wait_for_url(server.url + "/enroll")
        # it waits for the administrator: he cannot declare himself fit and sign in at once
        assert page.get_attribute("#step-health", "data-state") == "pending"
        with session(ew.engine) as s:
            assert not s.exec(select(HealthCheck).where(HealthCheck.worker_id == ew.newcomer)).all()
        with session(ew.engine) as s:
            h = s.exec(
                select(HealthCheckSubmission).where(HealthCheckSubmission.worker_id == ew.newcomer)
            ).one()
            assert h.institution_other == "崇明某卫生院" and h.status == "pending"
    finally:
        browser.close()


def test_employment_confirmed_with_one_tap_and_not_anyone_elses(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/employment")
        card = f"#emp-{ew.employment}"
        assert "木工班" in page.inner_text(card) and "测试项目" in page.inner_text(card)
        shot(page, "enroll-employment")
        page.click(f"{card} button.confirm-employment")
        page.wait_for_selector(f"{card}.confirmed")
        with session(ew.engine) as s:
            e = s.get(Employment, ew.employment)
            assert e is not None and e.confirmed_at is not None
        forced = page.evaluate(
            "async (id) => (await Kiosk.call('POST', '/api/enroll/employments/' + id + '/confirm')).data",
            str(ew.others_employment),
        )
        assert "不属于此工人" in forced["message_zh"] and "belongs to another worker" in forced["message_en"]
        page.goto(server.url + "/")
        assert page.get_attribute("#step-employment", "data-state") == "done"
    finally:
        browser.close()
    with session(ew.engine) as s:
        w = s.get(Worker, ew.newcomer)
        assert w is not None and w.realname_verified_at is None
