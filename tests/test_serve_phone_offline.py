"""Issue 27 on the service's side (no browser): the phone's key registration, the code page's person and
status, hashed compressed assets and the service worker, a scan kept offline and sent later, the
refusal card's words (the project named, the step that fixes it), whole metres."""

from __future__ import annotations

import base64
import gzip
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from support.serve_world import ServeWorld, build_serve_world, csrf_of
from support.way_a_world import FAR, NEAR

from store.codes.devices import raw_point
from store.codes.tokens import TrustList, Verifier, issue_code, issue_device_code
from store.reasons import Role
from store.timeutil import utcnow


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> ServeWorld:
    return build_serve_world(sqlite_url, tmp_path)


def bound(sw: ServeWorld, **link: object) -> tuple[object, str]:
    client = sw.bind(sw.client(), sw.link(**link) if link else None)  # type: ignore[arg-type]
    return client, csrf_of(client.get("/").text)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_device_key_registration_and_the_code_page(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    key = ec.generate_private_key(ec.SECP256R1())
    page = client.get("/code")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert 'data-device-kid=""' in page.text and f'data-subject="{sw.world.worker}"' in page.text
    assert "张伟" in page.text and "0011" in page.text and "今日可签到" in page.text
    r = client.post(  # type: ignore[attr-defined]
        "/api/device-key",
        json={"public_key": b64(raw_point(key.public_key()))},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    kid = r.json()["kid"]
    assert r.json()["subject"] == str(sw.world.worker)
    assert client.get("/api/code").json()["device_kid"] == kid  # type: ignore[attr-defined]
    token = issue_device_code(key, subject=sw.world.worker)
    assert Verifier(TrustList.from_engine(sw.world.engine)).verify(token, role=Role.WORKER).kid == kid
    # not a key, no CSRF: refused, nothing recorded
    for body in ({"public_key": b64(b"\x04" + b"\x01" * 64)}, {"public_key": "x" * 90}, {"public_key": "!"}):
        bad = client.post("/api/device-key", json=body, headers={"X-CSRF-Token": csrf})  # type: ignore[attr-defined]
        assert bad.status_code == 422, body
    assert (
        client.post("/api/device-key", json={"public_key": b64(raw_point(key.public_key()))}).status_code
        == 403
    )  # type: ignore[attr-defined]


def test_an_officer_phone_registers_no_key(sw: ServeWorld) -> None:
    client, csrf = bound(sw, officer=sw.world.officer)
    key = ec.generate_private_key(ec.SECP256R1())
    r = client.post(  # type: ignore[attr-defined]
        "/api/device-key",
        json={"public_key": b64(raw_point(key.public_key()))},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403


def test_hashed_assets_are_compressed_and_immutable_and_the_service_worker_lists_them(sw: ServeWorld) -> None:
    client, _ = bound(sw)
    page = client.get("/code").text  # type: ignore[attr-defined]
    urls = re.findall(r'(/static/h/[0-9a-f]{12}/[^"]+)"', page)
    assert any(u.endswith("/code.js") for u in urls) and any(u.endswith("/app.css") for u in urls)
    for u in urls:
        r = client.get(u, headers={"Accept-Encoding": "gzip"})  # type: ignore[attr-defined]
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-encoding"] == "gzip"
    sw_js = client.get("/sw.js")  # type: ignore[attr-defined]
    assert sw_js.status_code == 200 and "no-store" in sw_js.headers["cache-control"]
    assert "/*CONFIG*/{}" not in sw_js.text and "zxing_reader.wasm" in sw_js.text
    wasm = next(u for u in re.findall(r'"(/static/h/[^"]+)"', sw_js.text) if u.endswith(".wasm"))
    r = client.get(wasm, headers={"Accept-Encoding": "gzip"})  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/wasm"
    raw = (
        Path(__file__).resolve().parents[1] / "kiosk/serve/static/vendor/zxing-wasm/zxing_reader.wasm"
    ).read_bytes()
    assert len(r.content) == len(raw) or gzip.decompress(r.content) == raw
    # a wrong digest is no asset
    assert client.get("/static/h/000000000000/app.css").status_code == 404  # type: ignore[attr-defined]


def _kept(client: object, csrf: str, code: str, scanned: object, where: tuple[float, float] = NEAR) -> object:
    body = {
        "officer_code": code,
        "latitude": where[0],
        "longitude": where[1],
        "accuracy": 12,
        "nonce": uuid.uuid4().hex,
        "scanned_at": scanned,
    }
    return client.post("/api/signin", json=body, headers={"X-CSRF-Token": csrf})  # type: ignore[attr-defined]


def test_a_scan_kept_offline_is_judged_at_its_time_within_the_officer_codes_window(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    made = utcnow().replace(microsecond=0) - timedelta(minutes=40)
    code = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=made
    )
    # claimed outside the code's two minutes: the code is expired at that time
    late = _kept(client, csrf, code, (made + timedelta(minutes=10)).isoformat())
    assert late.json()["outcome"] == "refused" and late.json()["reason"] == "CODE_EXPIRED"  # type: ignore[attr-defined]
    ok = _kept(client, csrf, code, (made + timedelta(seconds=30)).isoformat())
    assert ok.json()["outcome"] == "signed_in", ok.json()  # type: ignore[attr-defined]
    [att] = sw.world.attendances()
    assert (
        abs(
            (
                att.first_at.replace(tzinfo=None) - (made + timedelta(seconds=30)).replace(tzinfo=None)
            ).total_seconds()
        )
        < 1
    )
    # from the future or older than 12 hours: refused with words
    for when in (utcnow() + timedelta(minutes=5), utcnow() - timedelta(hours=13)):
        r = _kept(client, csrf, code, when.isoformat())
        assert r.status_code == 422 and "12 小时" in r.json()["message_zh"]  # type: ignore[attr-defined]


def test_a_refusal_names_the_project_says_failed_and_links_the_fix_in_whole_metres(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    other = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.stranger, project=sw.world.other, at=utcnow()
    )
    body = {
        "officer_code": other,
        "latitude": NEAR[0],
        "longitude": NEAR[1],
        "accuracy": 12,
        "nonce": uuid.uuid4().hex,
    }
    r = client.post("/api/signin", json=body, headers={"X-CSRF-Token": csrf}).json()  # type: ignore[attr-defined]
    assert r["outcome"] == "refused" and r["title"] == "签到失败"
    assert r["project_name"] == "别的项目" and r["message"].startswith("这是「别的项目」的签到员码")
    assert re.search(r"还有 \d+ 米", r["message"]), r["message"]  # whole metres
    place = client.post(  # type: ignore[attr-defined]
        "/api/place",
        json={"latitude": FAR[0], "longitude": FAR[1], "accuracy": 10},
        headers={"X-CSRF-Token": csrf},
    ).json()
    assert all("." not in (p["message"] or "") for p in place["projects"])


def test_a_refusal_for_a_missing_document_links_to_its_step() -> None:
    from kiosk.serve.refusals import FIX_URL
    from store.reasons import Reason

    assert FIX_URL[Reason.NO_HEALTH_CHECK] == "/enroll/health"
    assert FIX_URL[Reason.REALNAME_INCOMPLETE] == "/enroll/realname"
    assert Reason.OUTSIDE_RANGE not in FIX_URL  # put right where he stands


def test_the_code_page_says_what_a_worker_not_ready_lacks(sw: ServeWorld) -> None:
    from store.db.engine import session
    from store.people import enroll

    with session(sw.world.engine) as s:
        w = enroll.add_worker(session=s, id_number="110101199003070070", name="赵新来")
        s.commit()
        wid = w.id
    client, _ = bound(sw, worker=wid)
    page = client.get("/code").text  # type: ignore[attr-defined]
    status = re.search(r'id="code-status">([^<]+)<', page)
    assert status and "还不能签到：" in status.group(1), page
    assert 'href="/" class="fix-link"' in page and "赵新来" in page and "0070" in page
