"""kiosk serve over a real database: activation links and bindings, the pages, codes, way A, bad input."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlmodel import select
from support.serve_world import ServeWorld, build_serve_world, csrf_of, serve_config
from support.way_a_world import FAR, NEAR

from kiosk.qr_terminal import qr_image
from kiosk.serve.context import ServeKeyError, build_context, load_issuer_key
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import issue_code
from store.db.engine import session
from store.db.models import Attendance, AuditLog, PhoneBinding, SignInAttempt
from store.people.phone import list_bindings, revoke_person
from store.reasons import Role
from store.timeutil import utcnow


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> ServeWorld:
    return build_serve_world(sqlite_url, tmp_path)


def officer_code(sw: ServeWorld, **kw: object) -> str:
    return issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow(), **kw
    )  # type: ignore[arg-type]


def post_signin(client, csrf: str, code: str, where=NEAR, accuracy=15.0, nonce: str | None = None, **kw):  # type: ignore[no-untyped-def]
    body = {
        "officer_code": code,
        "latitude": where[0],
        "longitude": where[1],
        "accuracy": accuracy,
        "nonce": nonce or uuid.uuid4().hex,
        **kw,
    }
    return client.post("/api/signin", json=body, headers={"X-CSRF-Token": csrf})


def bound(sw: ServeWorld) -> tuple[object, str]:
    client = sw.bind(sw.client())
    return client, csrf_of(client.get("/").text)


# --- starting -------------------------------------------------------------------------------------------


def test_refuses_to_start_without_a_key_or_with_an_officer_only_key(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(ServeKeyError, match="issuer_key"):
        load_issuer_key("")
    officer_only = IssuerPrivateKey.generate(frozenset({Role.OFFICER}))
    priv, _ = officer_only.save(tmp_path / "officer")
    with pytest.raises(ServeKeyError) as exc:
        load_issuer_key(str(priv))
    assert "仅限签到员码" in exc.value.zh and "officer-only" in exc.value.en
    stranger = IssuerPrivateKey.generate(frozenset({Role.WORKER}))
    priv2, _ = stranger.save(tmp_path / "stranger")
    with pytest.raises(ServeKeyError, match="not registered"):
        build_context(serve_config(priv2), sqlite_url)


def test_kiosk_serve_command_refuses_an_officer_only_key(sqlite_url: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from kiosk.cli import main

    priv, _ = IssuerPrivateKey.generate(frozenset({Role.OFFICER})).save(tmp_path / "k")
    assert main(["serve", "--db", sqlite_url, "--issuer-key", str(priv), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "仅限签到员码" in err and "officer-only" in err
    assert main(["serve", "--db", sqlite_url, "--port", "0"]) == 2  # the test config names no key
    err = capsys.readouterr().err
    assert "[serve] issuer_key" in err and "未配置签发密钥" in err


# --- binding a phone ------------------------------------------------------------------------------------


def test_activation_binds_the_phone_with_a_hashed_httponly_strict_cookie(sw: ServeWorld) -> None:
    client = sw.client()
    path = sw.link()
    page = client.get(path)
    assert page.status_code == 200 and "张伟" in page.text and "确认绑定" in page.text
    r = client.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?bound=1"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kiosk_device="))
    secret = cookie.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert len(secret) >= 40
    with session(sw.world.engine) as s:
        rows = list(s.exec(select(PhoneBinding)))
        assert [b.device_hash for b in rows] == [hashlib.sha256(secret.encode()).hexdigest()]
        assert s.exec(select(AuditLog).where(AuditLog.action == "bind")).first() is not None
    home = client.get("/?bound=1")
    assert home.status_code == 200 and "张伟" in home.text and "绑定成功" in home.text


def test_a_link_works_once_and_expires(sw: ServeWorld) -> None:
    path = sw.link()
    sw.bind(sw.client(), path)
    again = sw.client().get(path)
    assert again.status_code == 410 and "已使用" in again.text
    expired = sw.link(at=utcnow() - timedelta(days=2))
    r = sw.client().get(expired)
    assert r.status_code == 410 and "已过期" in r.text
    en = sw.client().get(expired + "?lang=en")
    assert "expired" in en.text
    assert sw.client().get("/a/" + "x" * 32).status_code == 404


def test_a_newer_link_revokes_the_older_and_a_new_binding_replaces_the_old(sw: ServeWorld) -> None:
    first = sw.link()
    second = sw.link()
    assert sw.client().get(first).status_code == 410
    phone1 = sw.bind(sw.client(), second)
    phone2 = sw.bind(sw.client(), sw.link())
    assert phone2.get("/").status_code == 200
    old = phone1.get("/")
    assert old.status_code == 401 and "撤销" in old.text
    rows = list_bindings(sw.world.engine, worker_id=sw.world.worker)
    assert [r.active for r in rows] == [True, False]


def test_a_revoked_device_gets_a_clear_page(sw: ServeWorld) -> None:
    client, _ = bound(sw)
    assert revoke_person(sw.world.engine, worker_id=sw.world.worker, actor="admin") == 1
    r = client.get("/code")
    assert r.status_code == 401 and "已被撤销" in r.text
    api = client.get("/api/code")
    assert api.status_code == 401 and api.json()["error"] == "device_revoked" and api.json()["message_en"]
    assert sw.client().get("/").status_code == 401  # never bound


# --- the pages ---------------------------------------------------------------------------------------------


def test_home_shows_name_masked_id_and_readiness(sw: ServeWorld) -> None:
    client, _ = bound(sw)
    page = client.get("/").text
    assert "张伟" in page and "**************0011" in page and "测试项目" in page and "可以签到" in page
    assert "310104199001010011" not in page
    me = client.get("/api/me").json()
    assert me["kind"] == "worker" and me["projects"][0]["ready"] is True
    en = client.get("/?lang=en").text
    assert "Ready to sign in" in en


def test_the_api_answers_keep_their_shape(sw: ServeWorld) -> None:
    """The response models keep the answers the pages read: a worker's with his readiness and
    enrollment, an officer's with his projects only (no enrollment, no ID number)."""
    worker, _ = bound(sw)
    me = worker.get("/api/me").json()
    assert list(me) == ["kind", "name", "id_masked", "date", "projects", "enrollment"]
    assert set(me["projects"][0]) == {"project", "name", "ready", "checks", "steps"}
    assert set(me["enrollment"]) == {"name", "id_masked", "steps", "ready"}
    officer = sw.bind(sw.client(), sw.link(officer=sw.world.officer))
    mine = officer.get("/api/me").json()
    assert list(mine) == ["kind", "name", "id_masked", "date", "projects"] and mine["id_masked"] is None
    assert mine["projects"] == [{"project": str(sw.world.project), "name": "测试项目"}]
    code = officer.get("/api/code").json()
    assert code["kind"] == "officer" and code["project"] == str(sw.world.project) and code["token"]


def test_home_says_what_is_missing(sw: ServeWorld) -> None:
    from store.db.models import BankCard, Worker

    with session(sw.world.engine) as s:
        w = s.get(Worker, sw.world.worker)
        assert w is not None
        w.has_bank_card = False
        for card in s.exec(select(BankCard)):
            s.delete(card)
        s.add(w)
        s.commit()
    client, _ = bound(sw)
    page = client.get("/").text
    assert "还不能签到" in page and "银行卡" in page


def test_code_page_and_api_give_a_current_worker_code(sw: ServeWorld) -> None:
    client, _ = bound(sw)
    page = client.get("/code")
    assert page.status_code == 200 and "<svg" in page.text and "个人建设码" in page.text
    data = client.get("/api/code").json()
    ident = sw.ctx.verifier.verify(data["token"], role=Role.WORKER)
    assert ident.subject == sw.world.worker
    assert data["validity_s"] == 120 and data["renew_in_s"] == 100


def test_officer_code_page_names_todays_project(sw: ServeWorld) -> None:
    client = sw.bind(sw.client(), sw.link(officer=sw.world.officer))
    data = client.get("/api/code").json()
    ident = sw.ctx.verifier.verify(data["token"], role=Role.OFFICER)
    assert ident.subject == sw.world.officer and ident.project == sw.world.project
    assert data["project_name"] == "测试项目"
    assert "签到员建设码" in client.get("/code").text
    assert "测试项目" in client.get("/").text


# --- way A ------------------------------------------------------------------------------------------------


def test_way_a_inside_signs_in_then_already(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    place = client.post(
        "/api/place",
        json={"latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 15},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert place["projects"][0]["inside"] is True
    r = post_signin(client, csrf, officer_code(sw))
    assert r.status_code == 200 and r.json()["outcome"] == "signed_in" and r.json()["message"] == "签到成功"
    att = sw.world.attendances()
    assert len(att) == 1 and att[0].way == "A" and att[0].officer_id == sw.world.officer
    again = post_signin(client, csrf, officer_code(sw))
    assert again.json()["outcome"] == "already"
    assert len(sw.world.attendances()) == 1


def test_way_a_outside_is_refused_by_the_server_whatever_the_button(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    place = client.post(
        "/api/place", json={"latitude": FAR[0], "longitude": FAR[1]}, headers={"X-CSRF-Token": csrf}
    )
    assert place.json()["projects"][0]["inside"] is False and "米" in place.json()["projects"][0]["message"]
    r = post_signin(client, csrf, officer_code(sw), where=FAR)
    assert r.json()["outcome"] == "refused" and r.json()["reason"] == "OUTSIDE_RANGE"
    assert sw.world.attendances() == []


def test_bad_input_is_a_clear_message_and_records_nothing_but_the_attempt(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    bad = post_signin(client, csrf, officer_code(sw), where=(95.0, 121.0))
    assert bad.status_code == 422 and bad.json()["message_zh"] and bad.json()["message_en"]
    assert sw.world.attempts() == []
    junk = client.post(
        "/api/signin", json={"officer_code": "x", "latitude": "north"}, headers={"X-CSRF-Token": csrf}
    )
    assert junk.status_code == 422 and "输入有误" in junk.json()["message_zh"]
    inaccurate = post_signin(client, csrf, officer_code(sw), accuracy=10_000)
    assert inaccurate.json()["reason"] == "LOCATION_INACCURATE"
    worker_code = issue_code(sw.world.key, role=Role.WORKER, subject=sw.world.worker, at=utcnow())
    wrong = post_signin(client, csrf, worker_code)
    assert wrong.json()["reason"] == "CODE_WRONG_ROLE" and "签到员建设码" in wrong.json()["message_zh"]
    url = post_signin(client, csrf, "https://example.com/not-a-code")
    assert url.json()["reason"] == "CODE_INVALID"
    assert sw.world.attendances() == []
    assert [a.outcome for a in sw.world.attempts()] == ["refused"] * 3


def test_a_replayed_request_is_refused(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    code = officer_code(sw)
    first = post_signin(client, csrf, code, where=FAR, nonce="replay-me-123")
    assert first.status_code == 200
    replay = post_signin(client, csrf, code, where=FAR, nonce="replay-me-123")
    assert (
        replay.status_code == 409
        and "已处理过" in replay.json()["message_zh"]
        and replay.json()["message_en"]
    )
    assert len(sw.world.attempts()) == 1


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def test_way_a_by_photo_is_read_by_the_kiosk_decoder_chain(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    img = qr_image(officer_code(sw), scale=6)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    form = {"latitude": str(NEAR[0]), "longitude": str(NEAR[1]), "accuracy": "12", "nonce": uuid.uuid4().hex}
    r = client.post(
        "/api/signin/photo",
        data=form,
        files={"photo": ("p.png", buf.getvalue(), "image/png")},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "signed_in"
    blank = _png(np.full((300, 300, 3), 255, np.uint8))
    form["nonce"] = uuid.uuid4().hex
    none = client.post(
        "/api/signin/photo",
        data=form,
        files={"photo": ("b.png", blank, "image/png")},
        headers={"X-CSRF-Token": csrf},
    )
    assert none.status_code == 400 and "没有可识别的二维码" in none.json()["message_zh"]
    notimg = client.post(
        "/api/signin/photo",
        data=form,
        files={"photo": ("x.png", b"not an image", "image/png")},
        headers={"X-CSRF-Token": csrf},
    )
    assert notimg.status_code == 400 and notimg.json()["error"] == "bad_image"
    assert len(sw.world.attempts()) == 1


def test_a_huge_upload_is_refused_before_it_is_read(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    huge = b"\xff" * (9 * 1024 * 1024)
    form = {"latitude": str(NEAR[0]), "longitude": str(NEAR[1]), "nonce": uuid.uuid4().hex}
    r = client.post(
        "/api/signin/photo",
        data=form,
        files={"photo": ("h.jpg", huge, "image/jpeg")},
        headers={"X-CSRF-Token": csrf},
    )
    assert (
        r.status_code == 413
        and "照片太大" in r.json()["message_zh"]
        and "too large" in r.json()["message_en"]
    )
    big_json = client.post(
        "/api/signin",
        content=b"{" + b" " * 200_000 + b"}",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert big_json.status_code == 413
    assert sw.world.attempts() == []


def test_an_officer_cannot_sign_in_by_phone(sw: ServeWorld) -> None:
    client = sw.bind(sw.client(), sw.link(officer=sw.world.officer))
    csrf = csrf_of(client.get("/").text)
    r = post_signin(client, csrf, officer_code(sw))
    assert r.status_code == 403 and r.json()["error"] == "officer"


def test_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(pg_url, tmp_path)
    client, csrf = bound(sw)
    assert client.get("/api/code").status_code == 200
    r = post_signin(client, csrf, officer_code(sw))
    assert r.json()["outcome"] == "signed_in"
    with session(sw.world.engine) as s:
        assert len(list(s.exec(select(Attendance)))) == 1
        assert len(list(s.exec(select(SignInAttempt)))) == 1


def test_kiosk_phone_link_bindings_and_revoke_commands(sw: ServeWorld, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from kiosk.cli import main

    url = sw.world.url
    assert (
        main(
            [
                "phone",
                "link",
                "--worker",
                str(sw.world.worker),
                "--db",
                url,
                "--json",
                "--base-url",
                "https://sign.example.cn",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["url"].startswith("https://sign.example.cn/a/") and out["name"] == "张伟"
    client = sw.bind(sw.client(), out["url"].removeprefix("https://sign.example.cn"))
    assert main(["phone", "link", "--officer", str(sw.world.officer), "--db", url]) == 0
    text = capsys.readouterr().out
    assert "█" in text and "/a/" in text
    assert main(["phone", "bindings", "--worker", str(sw.world.worker), "--db", url]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["revoked_at"] is None
    assert main(["phone", "revoke", "--binding", rows[0]["binding"], "--db", url]) == 0
    assert json.loads(capsys.readouterr().out) == {"revoked": 1}
    assert client.get("/").status_code == 401
    assert main(["phone", "link", "--worker", "nope", "--db", url]) == 2
    assert "UUID" in capsys.readouterr().err


def test_a_kiosk_key_registered_after_start_is_trusted_at_once_and_a_revoked_own_key_stops_codes(
    sw: ServeWorld,
) -> None:
    from store.codes.keys import register_public_key, revoke_key

    client, csrf = bound(sw)
    assert client.get("/api/code").status_code == 200  # the trust list is loaded
    kiosk_key = IssuerPrivateKey.generate(frozenset({Role.OFFICER}))
    register_public_key(
        sw.world.engine,
        kiosk_key.public_pem(),
        roles=kiosk_key.roles,
        not_before=utcnow() - timedelta(days=1),
    )
    code = issue_code(
        kiosk_key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )
    sw.ctx._loaded_at -= 6  # the last reload was more than the few seconds ago that throttle it
    assert post_signin(client, csrf, code).json()["outcome"] == "signed_in"
    revoke_key(sw.world.engine, sw.ctx.key.kid)
    sw.ctx._reload(0)
    r = client.get("/api/code")
    assert r.status_code == 503 and "吊销" in r.json()["message_zh"]
