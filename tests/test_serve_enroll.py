"""The enrollment API of the phone service (routers/enroll.py) through the real app: each step as the
phone's own worker, every bad input a field error in Chinese and English with nothing saved, and the
walls: CSRF, an officer's phone, another worker's employment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select
from support.enroll_serve_world import NEWCOMER, NEWCOMER_ID, EnrollWorld, bound_client, build_enroll_world
from support.enroll_world import (
    face_jpeg,
    huge_photo,
    id_card_jpeg,
    luhn_card,
    no_face_jpeg,
    text_renamed_jpg,
    two_faces_jpeg,
)
from support.upload_bombs import scan_bomb

from store.db.engine import session, write_session
from store.db.models import BankCardSubmission, Employment, HealthCheckSubmission, RealnameSubmission
from store.people.review import ReviewKind, approve, reject
from store.timeutil import local_date, utcnow


@pytest.fixture
def ew(sqlite_url: str, tmp_path: Path) -> EnrollWorld:
    return build_enroll_world(sqlite_url, tmp_path)


def count(ew: EnrollWorld, model: type) -> int:
    with session(ew.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def blurred(jpeg: bytes, sigma: float = 4.0) -> bytes:
    """The photo as a shaken or unfocused phone takes it."""
    import io

    from PIL import Image, ImageFilter

    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).filter(ImageFilter.GaussianBlur(sigma)).save(out, "JPEG", quality=90)
    return out.getvalue()


def photos(**override: bytes) -> dict[str, tuple[str, bytes, str]]:
    files = {
        "front_image": id_card_jpeg("front"),
        "back_image": id_card_jpeg("back"),
        "face_photo": face_jpeg(),
    }
    files.update(override)
    return {k: (f"{k}.jpg", v, "image/jpeg") for k, v in files.items()}


def post_realname(client, csrf: str, id_number: str = NEWCOMER_ID, name: str = NEWCOMER, **files: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/enroll/realname",
        headers={"X-CSRF-Token": csrf},
        data={"id_number": id_number, "name": name},
        files=photos(**files),
    )


def test_the_steps_as_the_phone_sees_them(ew: EnrollWorld) -> None:
    client, csrf = bound_client(ew)
    steps = {s["step"]: s for s in client.get("/api/enroll").json()["steps"]}
    assert {k: v["state"] for k, v in steps.items()} == {
        "realname": "todo",
        "bank_card": "todo",
        "health": "todo",
        "employment": "todo",
    }
    assert steps["employment"]["waiting"] == 1

    r = post_realname(client, csrf)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    r = client.post(
        "/api/enroll/bank",
        headers={"X-CSRF-Token": csrf},
        json={"bank_name": "中国银行", "card_number": luhn_card()},
    )
    assert r.status_code == 200 and "*" in r.json()["card_masked"] and luhn_card() not in r.text
    page = client.get("/enroll/health").text
    assert '<option value="" disabled selected>' in page and " checked" not in page  # nothing preselected
    inst = page.split('<option value="')[2].split('"')[0]
    checked = (local_date(utcnow()) - timedelta(days=3)).isoformat()
    r = client.post(
        "/api/enroll/health",
        headers={"X-CSRF-Token": csrf},
        data={"institution": inst, "checked_on": checked, "passed": "yes"},
    )
    assert r.status_code == 422 and r.json()["field"] == "report_image"  # the report's photo is required
    r = client.post(
        "/api/enroll/health",
        headers={"X-CSRF-Token": csrf},
        data={"institution": inst, "checked_on": checked, "passed": "yes"},
        files={"report_image": ("report.jpg", id_card_jpeg("front"), "image/jpeg")},
    )
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    r = client.post(f"/api/enroll/employments/{ew.employment}/confirm", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["confirmed_at"]
    steps = {s["step"]: s["state"] for s in client.get("/api/enroll").json()["steps"]}
    assert steps == {"realname": "pending", "bank_card": "pending", "health": "pending", "employment": "done"}

    with write_session(ew.engine) as s:
        health = s.exec(select(HealthCheckSubmission)).one()
        approve(session=s, kind=ReviewKind.HEALTH, submission_id=health.id, by="admin")
        sub = s.exec(select(RealnameSubmission)).one()
        card = s.exec(select(BankCardSubmission)).one()
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by="admin")
        reject(
            session=s,
            kind=ReviewKind.BANK_CARD,
            submission_id=card.id,
            by="admin",
            reason="银行卡号有误，请核对后重新提交",
        )
    steps = {s["step"]: s for s in client.get("/api/enroll?lang=en").json()["steps"]}
    assert steps["realname"]["state"] == "done" and steps["health"]["state"] == "done"
    assert steps["bank_card"]["state"] == "rejected"
    assert steps["bank_card"]["reason"] == "The card number is wrong: check it and submit again"
    home = client.get("/").text
    assert "未通过" in home and "银行卡号有误" in home  # the home page says what still stops him


@pytest.mark.parametrize(
    ("kw", "field", "zh", "en"),
    [
        ({"id_number": NEWCOMER_ID[:-1] + "1"}, "id_number", "校验位错误", "wrong check character"),
        ({"front_image": text_renamed_jpg()}, "front_image", "不是图片文件", "is not a picture"),
        ({"face_photo": two_faces_jpeg()}, "face_photo", "有2张人脸", "shows 2 faces"),
        ({"face_photo": no_face_jpeg()}, "face_photo", "没有找到人脸", "No face found"),
        ({"front_image": blurred(id_card_jpeg("front"))}, "front_image", "太模糊", "is blurred"),
        ({"face_photo": blurred(face_jpeg())}, "face_photo", "太模糊", "is blurred"),
        ({"back_image": scan_bomb(6000)}, "back_image", "扫描段过多", "too many scans"),
    ],
)
def test_bad_realname_input_is_a_field_error(ew: EnrollWorld, kw: dict, field: str, zh: str, en: str) -> None:  # type: ignore[type-arg]
    client, csrf = bound_client(ew)
    id_number = kw.pop("id_number", NEWCOMER_ID)
    r = post_realname(client, csrf, id_number=id_number, **kw)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and zh in body["message_zh"] and en in body["message_en"]
    assert count(ew, RealnameSubmission) == 0


def test_a_name_unlike_the_verified_one_is_refused(ew: EnrollWorld) -> None:
    client, csrf = bound_client(ew, ew.sw.world.worker)  # 张伟, verified
    r = post_realname(client, csrf, id_number="310104199001010011", name="张玮")
    assert r.status_code == 422 and r.json()["field"] == "name" and "张伟" in r.json()["message_zh"]
    assert count(ew, RealnameSubmission) == 0


def test_a_40_mb_photo_is_refused_before_it_is_read(ew: EnrollWorld) -> None:
    client, csrf = bound_client(ew)
    r = post_realname(client, csrf, back_image=huge_photo(40))
    assert (
        r.status_code == 413
        and "照片太大" in r.json()["message_zh"]
        and "too large" in r.json()["message_en"]
    )
    assert count(ew, RealnameSubmission) == 0


def test_a_photo_over_the_services_limit_is_a_field_error(ew: EnrollWorld) -> None:
    client, csrf = bound_client(ew)
    r = post_realname(client, csrf, face_photo=huge_photo(10))  # under the body's cap, over the photo's
    assert r.status_code == 422 and r.json()["field"] == "face_photo"
    assert "照片太大（10.0 MB）" in r.json()["message_zh"] and "at most 8 MB" in r.json()["message_en"]
    assert count(ew, RealnameSubmission) == 0


def test_a_bad_check_digit_needs_confirming(ew: EnrollWorld) -> None:
    client, csrf = bound_client(ew)
    good = luhn_card()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    r = client.post(
        "/api/enroll/bank", headers={"X-CSRF-Token": csrf}, json={"bank_name": "中国银行", "card_number": bad}
    )
    assert (
        r.status_code == 422
        and r.json()["error"] == "luhn_unconfirmed"
        and r.json()["field"] == "card_number"
    )
    assert count(ew, BankCardSubmission) == 0
    r = client.post(
        "/api/enroll/bank",
        headers={"X-CSRF-Token": csrf},
        json={"bank_name": "中国银行", "card_number": bad, "luhn_confirmed": True},
    )
    assert r.status_code == 200 and r.json()["luhn_ok"] is False


def test_another_workers_employment_is_refused(ew: EnrollWorld) -> None:
    with session(ew.engine) as s:
        ew_confirmed_before = s.get(Employment, ew.others_employment).confirmed_at  # type: ignore[union-attr]
    client, csrf = bound_client(ew)
    r = client.post(f"/api/enroll/employments/{ew.others_employment}/confirm", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    assert "不属于此工人" in r.json()["message_zh"] and "another worker" in r.json()["message_en"]
    with session(ew.engine) as s:
        theirs = s.get(Employment, ew.others_employment)
        assert theirs is not None
        assert theirs.confirmed_at == ew_confirmed_before


def test_every_write_needs_the_csrf_token(ew: EnrollWorld) -> None:
    client, _csrf = bound_client(ew)
    assert (
        client.post(
            "/api/enroll/bank", json={"bank_name": "中国银行", "card_number": luhn_card()}
        ).status_code
        == 403
    )
    assert client.post(f"/api/enroll/employments/{ew.employment}/confirm").status_code == 403
    assert count(ew, BankCardSubmission) == 0


def test_no_phone_no_enrollment_and_an_officer_has_none(ew: EnrollWorld) -> None:
    stranger = ew.sw.client()
    assert stranger.get("/api/enroll").status_code == 401
    assert "尚未绑定" in stranger.get("/enroll").text
    officer = ew.sw.bind(ew.sw.client(), ew.sw.link(officer=ew.sw.world.officer))
    assert officer.get("/api/enroll").status_code == 403
    assert "仅限工人" in officer.get("/enroll").text


def test_enrollment_calls_are_rate_limited_per_phone(sqlite_url: str, tmp_path: Path) -> None:
    ew = build_enroll_world(sqlite_url, tmp_path, enroll_per_min_device=2)
    client, csrf = bound_client(ew)
    body = {"bank_name": "中国银行", "card_number": luhn_card()}
    codes = [
        client.post("/api/enroll/bank", headers={"X-CSRF-Token": csrf}, json=body).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    r = client.post("/api/enroll/bank", headers={"X-CSRF-Token": csrf}, json=body)
    assert "操作太频繁" in r.json()["message_zh"]
