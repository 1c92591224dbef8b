"""kiosk serve's defences, each tried: CSRF, rate limits, the CSP with no inline script, nothing
sensitive in the log, cookies, and a phone that can only ever see and act as its own person."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select
from support.serve_world import ServeWorld, build_serve_world, csrf_of
from support.way_a_world import NEAR

from kiosk.serve.app import create_app
from kiosk.serve.security import csrf_protect
from store.codes.tokens import issue_code
from store.db.engine import session
from store.db.models import Attendance, PhoneActivation
from store.people import enroll
from store.reasons import Role
from store.timeutil import utcnow


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> ServeWorld:
    return build_serve_world(sqlite_url, tmp_path)


def officer_code(sw: ServeWorld) -> str:
    return issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )


def signin_body(sw: ServeWorld, **kw: object) -> dict[str, object]:
    return {
        "officer_code": officer_code(sw),
        "latitude": NEAR[0],
        "longitude": NEAR[1],
        "accuracy": 10,
        "nonce": uuid.uuid4().hex,
        **kw,
    }


# --- CSRF ---------------------------------------------------------------------------------------------


def test_every_state_changing_route_is_csrf_protected(sw: ServeWorld) -> None:
    from kiosk.serve.routers import activation, api, pages

    create_app(sw.ctx)
    routes = [*api.router.routes, *activation.router.routes, *pages.router.routes]
    unsafe = [r for r in routes if isinstance(r, APIRoute) and r.methods - {"GET", "HEAD"}]
    assert len(unsafe) >= 4
    for r in unsafe:
        assert any(d.call is csrf_protect for d in r.dependant.dependencies), r.path


def test_requests_without_the_token_or_from_another_origin_are_refused(sw: ServeWorld) -> None:
    client = sw.bind(sw.client())
    token = csrf_of(client.get("/").text)
    none = client.post("/api/signin", json=signin_body(sw))
    assert none.status_code == 403 and none.json()["error"] == "csrf" and none.json()["message_zh"]
    wrong = client.post("/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": "x" * 32})
    assert wrong.status_code == 403
    other = client.post(
        "/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": token, "Origin": "https://evil.example"}
    )
    assert other.status_code == 403 and other.json()["error"] == "csrf_origin"
    assert sw.world.attempts() == []
    ok = client.post(
        "/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": token, "Origin": "http://testserver"}
    )
    assert ok.status_code == 200


def test_activation_without_the_token_binds_nothing(sw: ServeWorld) -> None:
    client = sw.client()
    path = sw.link()
    client.get(path)
    r = client.post(path, data={}, follow_redirects=False)
    assert r.status_code == 403 and "kiosk_device" not in r.headers.get("set-cookie", "")
    with session(sw.world.engine) as s:
        assert s.exec(select(PhoneActivation)).one().used_at is None


# --- rate limits ---------------------------------------------------------------------------------------


def test_activation_attempts_are_limited_per_address(sqlite_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(sqlite_url, tmp_path, activate_per_min_ip=3)
    client = sw.client()
    codes = [client.get("/a/" + "y" * 32).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    r = client.get("/a/" + "y" * 32, headers={"Accept": "application/json"})
    assert r.status_code == 429 and "太频繁" in r.json()["message_zh"] and r.headers["retry-after"] == "60"


def test_sign_ins_are_limited_per_phone_and_per_address(sqlite_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(sqlite_url, tmp_path, signin_per_min_device=2, signin_per_min_ip=3)
    phone = sw.bind(sw.client())
    token = csrf_of(phone.get("/").text)
    codes = [
        phone.post("/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": token}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    with session(sw.world.engine) as s:
        w2 = enroll.add_worker(session=s, id_number="310104199203040024", name="李娜")
        s.commit()
        w2_id = w2.id
    other = sw.bind(sw.client(), sw.link(worker=w2_id))
    token2 = csrf_of(other.get("/").text)
    first = other.post("/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": token2})
    assert first.status_code == 200  # the address's third
    second = other.post("/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": token2})
    assert second.status_code == 429 and "Too many" in second.json()["message_en"]


# --- headers and pages -----------------------------------------------------------------------------------


def test_csp_without_inline_script_on_every_page(sw: ServeWorld) -> None:
    client = sw.bind(sw.client())
    officer = sw.bind(sw.client(), sw.link(officer=sw.world.officer))
    pages = [client.get(p) for p in ("/", "/code", "/signin", "/?lang=en")]
    pages += [officer.get(p) for p in ("/", "/code", "/signin")]
    pages += [sw.client().get(sw.link()), sw.client().get("/"), sw.client().get("/nope")]
    for r in pages:
        csp = r.headers["content-security-policy"]
        assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        html = r.text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "inline script"
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert "javascript:" not in html and "style=" not in html
    assert client.get("/api/me").headers["content-security-policy"]


def test_the_device_cookie_is_secure_over_tls(sw: ServeWorld) -> None:
    from fastapi.testclient import TestClient

    sw.ctx.secure_cookies = True
    client = TestClient(create_app(sw.ctx), base_url="https://testserver")
    path = sw.link()
    page = client.get(path)
    r = client.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kiosk_device="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_the_language_switch_is_no_open_redirect(sw: ServeWorld) -> None:
    client = sw.client()
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        r = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert r.headers["location"] == "/"
    assert client.get("/lang/en?next=/code", follow_redirects=False).headers["location"] == "/code"


# --- the log -------------------------------------------------------------------------------------------------


def test_nothing_sensitive_in_any_log_line(sw: ServeWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = sw.client()
    path = sw.link()
    page = client.get(path)
    csrf = csrf_of(page.text)
    r = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
    device = r.cookies.get("kiosk_device") or client.cookies.get("kiosk_device")
    assert device
    code = client.get("/api/code").json()["token"]
    officer = officer_code(sw)
    client.post("/api/signin", json=signin_body(sw, officer_code=officer), headers={"X-CSRF-Token": csrf})
    client.post("/api/signin", json=signin_body(sw, latitude=95), headers={"X-CSRF-Token": csrf})
    client.get("/a/" + "z" * 32)
    # every line the service side wrote (httpx's own lines are the test client's, not the service's)
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "/a/{token}" in text and "/api/signin" in text  # the access log names routes
    for secret in (
        path.rsplit("/", 1)[1],
        device,
        csrf,
        code,
        officer,
        "张伟",
        "310104199001010011",
        "0011",
        f"{NEAR[0]}",
        "zzzzzzzz",
    ):
        assert secret not in text, secret


# --- a phone is its own person only ------------------------------------------------------------------------


def test_a_phone_only_ever_sees_and_acts_as_its_own_person(sw: ServeWorld) -> None:
    with session(sw.world.engine) as s:
        w2 = enroll.add_worker(session=s, id_number="310104199203040024", name="李娜")
        s.commit()
        other = w2.id
    mine = sw.bind(sw.client())
    token = csrf_of(mine.get("/").text)
    for q in (f"?worker={other}", f"?worker_id={other}", f"?subject={other}", f"?id={other}"):
        me = mine.get("/api/me" + q).json()
        assert me["name"] == "张伟"
        code = mine.get("/api/code" + q).json()["token"]
        assert sw.ctx.verifier.verify(code, role=Role.WORKER).subject == sw.world.worker
    assert "李娜" not in mine.get(f"/?worker={other}").text
    # a worker's phone never gets an officer's code, even naming the project
    c = mine.get(f"/api/code?project={sw.world.project}").json()
    assert sw.ctx.verifier.verify(c["token"]).role is Role.WORKER
    # a sign-in naming someone else signs in the phone's own worker only
    r = mine.post(
        "/api/signin",
        json=signin_body(sw, worker=str(other), worker_id=str(other)),
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200
    with session(sw.world.engine) as s:
        assert [a.worker_id for a in s.exec(select(Attendance))] == [sw.world.worker]
    # no endpoint takes a person's id
    schema = sw.client().get("/api/openapi.json").json()
    params = [
        p["name"] for ops in schema["paths"].values() for op in ops.values() for p in op.get("parameters", [])
    ]
    assert not {"worker", "worker_id", "officer", "officer_id", "subject"} & set(params)
    # a forged or stolen-looking cookie is nobody
    forged = sw.client()
    forged.cookies.set("kiosk_device", "A" * 43)
    assert forged.get("/api/me").status_code == 401


def test_openapi_documents_the_api(sw: ServeWorld) -> None:
    schema = sw.client().get("/api/openapi.json").json()
    assert {"/api/me", "/api/code", "/api/place", "/api/signin", "/api/signin/photo"} <= set(schema["paths"])
    schemes = schema["components"]["securitySchemes"]
    assert schemes["device"]["in"] == "cookie" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert sw.client().get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_a_chunked_upload_without_a_length_is_cut_off_too(sw: ServeWorld) -> None:
    client = sw.bind(sw.client())
    token = csrf_of(client.get("/").text)

    def body():  # type: ignore[no-untyped-def]
        for _ in range(200):
            yield b"x" * 65536  # 12.5 MB, no Content-Length

    r = client.post(
        "/api/signin/photo",
        content=body(),
        headers={"X-CSRF-Token": token, "Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert r.status_code == 413 and "照片太大" in r.json()["message_zh"]
    assert sw.world.attempts() == []
