"""The phone pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), with
the position and the camera emulated, every asset from our own service.

- activation link → code page → a screenshot of the phone's screen decoded by the kiosk's decoder chain
  and signed in by ``Gate``: green (real pixels from phone to kiosk);
- way A inside the range with Chromium's fake camera showing the officer's QR (a Y4M file): the button
  turns green, the vendored zxing-wasm reads the code, the attendance is way A, the page is green; a
  second time is ``already``;
- way A outside: the button stays grey and a forced request is refused;
- an expired link and a revoked phone get their pages.

Missing Chromium: skipped with a message, but a failure on CI (CI=true). ``KIOSK_SCREENSHOTS=docs``
writes the README's screenshots of each page into that folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from support.browser import (
    PHONE,
    bind_in_browser,
    fits_the_phone,
    launch,
    need_chromium,
    own_assets_only,
    phone,
    playwright_fixture,  # noqa: F401  (the fixture `playwright`)
    shot,
)
from support.serve_world import ServeWorld, build_serve_world
from support.way_a_world import FAR, NEAR

from kiosk.qr_terminal import qr_image
from kiosk.serve.app import create_app
from kiosk.serve.run import BackgroundServer
from store.codes.tokens import issue_code
from store.reasons import Role
from store.timeutil import utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> Iterator[ServeWorld]:
    need_chromium()
    world = build_serve_world(sqlite_url, tmp_path)
    yield world


@pytest.fixture
def server(sw: ServeWorld) -> Iterator[BackgroundServer]:
    srv = BackgroundServer(create_app(sw.ctx)).start()
    yield srv
    srv.stop()


def officer_y4m(path: Path, token: str, frames: int = 6) -> Path:
    """A Y4M video (what Chromium's fake camera plays, looping) of the officer's QR on a white page."""
    qr = cv2.cvtColor(np.asarray(qr_image(token, scale=7, border=4).convert("RGB")), cv2.COLOR_RGB2BGR)
    canvas = np.full((480, 640, 3), 235, np.uint8)
    h, w = qr.shape[:2]
    y, x = (480 - h) // 2, (640 - w) // 2
    canvas[y : y + h, x : x + w] = qr
    yuv = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
    with path.open("wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            f.write(b"FRAME\n" + yuv)
    return path


def test_activation_then_code_page_screenshot_signs_in_at_the_gate(
    sw: ServeWorld,
    server: BackgroundServer,
    playwright: Any,
    tmp_path: Path,
) -> None:
    from kiosk.gate import Gate
    from store.rules.signin import SignInService

    browser = launch(playwright)
    try:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        requests = own_assets_only(page)
        page.goto(server.url + sw.link())
        page.wait_for_selector("#bind")
        shot(page, "activate")
        page.click("#bind")
        page.wait_for_url(server.url + "/?bound=1")
        assert page.inner_text("#name") == "张伟"
        assert "可以签到" in page.inner_text("main")
        shot(page, "home")
        cookie = next(c for c in ctx.cookies() if c["name"] == "kiosk_device")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie").find("kiosk_device") == -1  # out of reach of scripts
        page.goto(server.url + "/code")
        page.wait_for_selector("#code-card[data-mode='device']")  # signed on the phone (issue 27)
        left = int(page.inner_text("#left"))
        assert 0 <= left <= 120
        png = shot(page, "code")
        assert all(u.startswith(server.url) for u in requests), requests
    finally:
        browser.close()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    gate = Gate(
        service=SignInService(sw.world.engine),
        verifier=sw.world.verifier(),
        project_id=sw.world.project,
        kiosk_id=uuid.uuid4(),
        gate_photos=False,
    )
    events = gate.handle_image(image, source="phone-screenshot")
    assert [e.result.outcome.value for e in events] == ["signed_in"], events
    assert events[0].worker_id == sw.world.worker


def test_the_code_renews_itself_before_it_expires(
    sw: ServeWorld, server: BackgroundServer, playwright: Any
) -> None:
    cfg = sw.ctx.config  # a code of 22 s is renewed 20 s before it expires: after the page's 5 s floor
    sw.ctx.config = cfg.model_copy(update={"codes": cfg.codes.model_copy(update={"validity_s": 22})})
    browser = launch(playwright)
    try:
        ctx = browser.new_context(**PHONE)
        # a phone without WebCrypto shows the server's code (one with it signs its own: test_serve_offline_browser.py)
        ctx.add_init_script(
            "Object.defineProperty(Crypto.prototype, 'subtle', { get() { return undefined; } });"
        )
        page = ctx.new_page()
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/code")
        first = page.inner_html("#qr")
        page.wait_for_function(
            "(first) => document.querySelector('#qr').innerHTML !== first", arg=first, timeout=15_000
        )
        # counts to the renewal it promises (5 s here), not to the expiry
        assert int(page.inner_text("#left")) <= 5
    finally:
        browser.close()


def test_way_a_inside_with_the_fake_camera_then_already(
    sw: ServeWorld,
    server: BackgroundServer,
    playwright: Any,
    tmp_path: Path,
) -> None:
    token = issue_code(
        sw.world.key,
        role=Role.OFFICER,
        subject=sw.world.officer,
        project=sw.world.project,
        at=utcnow(),
        validity_s=600,
    )
    video = officer_y4m(tmp_path / "officer.y4m", token)
    browser = launch(
        playwright,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    try:
        ctx = browser.new_context(
            **PHONE,
            geolocation={"latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 15},
            permissions=["geolocation", "camera"],
        )
        page = ctx.new_page()
        requests = own_assets_only(page)
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/signin")
        page.wait_for_selector("#signin-button.green:not([disabled])", timeout=15_000)
        assert "已在签到范围内" in page.inner_text("#place-status")
        shot(page, "signin")
        page.click("#signin-button")
        page.wait_for_selector("#result[data-outcome]", timeout=30_000)
        assert page.get_attribute("#result", "data-outcome") == "signed_in", page.inner_text("#result")
        assert "签到成功" in page.inner_text("#result")
        shot(page, "signin-green")
        att = sw.world.attendances()
        assert len(att) == 1 and att[0].way == "A" and att[0].officer_id == sw.world.officer
        assert att[0].latitude == pytest.approx(NEAR[0])
        page.reload()
        page.wait_for_selector("#signin-button.green:not([disabled])", timeout=15_000)
        page.click("#signin-button")
        page.wait_for_selector("#result[data-outcome]", timeout=30_000)
        assert page.get_attribute("#result", "data-outcome") == "already"
        assert "今日已签到" in page.inner_text("#result")
        assert len(sw.world.attendances()) == 1
        assert any("/vendor/zxing-wasm/zxing_reader.wasm" in u for u in requests)  # under its hashed URL
        assert all(u.startswith(server.url) for u in requests), requests
    finally:
        browser.close()


def test_way_a_outside_the_button_is_grey_and_a_forced_request_is_refused(
    sw: ServeWorld,
    server: BackgroundServer,
    playwright: Any,
) -> None:
    token = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )
    browser = launch(playwright)
    try:
        ctx = browser.new_context(
            **PHONE,
            geolocation={"latitude": FAR[0], "longitude": FAR[1], "accuracy": 15},
            permissions=["geolocation"],
        )
        page = ctx.new_page()
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/signin")
        page.wait_for_function(
            "() => document.querySelector('#place-status').textContent.includes('不在签到范围内')",
            timeout=15_000,
        )
        assert page.is_disabled("#signin-button")
        assert "green" not in (page.get_attribute("#signin-button", "class") or "")
        assert "米" in page.inner_text("#place-distance")
        shot(page, "signin-outside")
        forced = page.evaluate(
            """async ({code, lat, lon}) => {
                const r = await fetch('/api/signin', {method: 'POST', headers: {'Content-Type': 'application/json',
                  'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
                  body: JSON.stringify({officer_code: code, latitude: lat, longitude: lon, accuracy: 10,
                                        nonce: 'forced-request-1'})});
                return await r.json();
            }""",
            {"code": token, "lat": FAR[0], "lon": FAR[1]},
        )
        assert forced["outcome"] == "refused" and forced["reason"] == "OUTSIDE_RANGE"
        assert sw.world.attendances() == []
        page.click("header .lang")  # English
        page.wait_for_function(
            "() => document.querySelector('#place-status').textContent.includes('Outside')", timeout=15_000
        )
        assert "360 m outside" in page.inner_text("#place-distance")
        assert page.inner_text("#signin-button") == "Sign in"
        fits_the_phone(page)
    finally:
        browser.close()


def test_expired_link_and_revoked_phone_pages(
    sw: ServeWorld, server: BackgroundServer, playwright: Any
) -> None:
    from store.people.phone import revoke_person

    browser, page = phone(playwright)
    try:
        page.goto(server.url + sw.link(at=utcnow() - timedelta(days=2)))
        assert "激活链接已过期" in page.inner_text("#message")
        page.click("header .lang")
        assert "expired" in page.inner_text("#message")
        page.click("header .lang")
        bind_in_browser(page, sw, server.url)
        revoke_person(sw.world.engine, worker_id=sw.world.worker, actor="admin")
        page.goto(server.url + "/code")
        assert "此手机的绑定已被撤销" in page.inner_text("#message")
        shot(page, "revoked")
    finally:
        browser.close()


def test_officer_page_shows_his_code_for_todays_project(
    sw: ServeWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, sw, server.url, officer=sw.world.officer)
        page.goto(server.url + "/code")
        page.wait_for_selector("#qr svg")
        assert page.inner_text("#project-name") == "测试项目"
        png = shot(page, "officer-code")
    finally:
        browser.close()
    from kiosk.camera.decoders import make_decoder

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    texts = [d.text for d in make_decoder("zxingcpp")(image)]
    ident = sw.ctx.verifier.verify(texts[0], role=Role.OFFICER)
    assert ident.project == sw.world.project


def test_no_other_host_in_templates_or_scripts() -> None:
    """Every asset is ours: no template or script names another host."""
    root = Path(__file__).resolve().parents[1] / "kiosk" / "serve"
    for f in [*root.glob("templates/*.html"), *root.glob("static/*.js"), *root.glob("static/*.css")]:
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, f


def test_way_a_by_photo_upload_when_the_camera_fails(
    sw: ServeWorld,
    server: BackgroundServer,
    playwright: Any,
    tmp_path: Path,
) -> None:
    """The fallback: a photo of the officer's screen, read on the server by the kiosk's decoder chain."""
    from kiosk.camera.simulate import phone_frame

    token = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )
    photo = tmp_path / "officer.jpg"
    cv2.imwrite(str(photo), phone_frame(token, seed=3))
    blank = tmp_path / "blank.jpg"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 200, np.uint8))
    browser = launch(playwright)
    try:
        ctx = browser.new_context(
            **PHONE,
            geolocation={"latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 20},
            permissions=["geolocation"],
        )
        page = ctx.new_page()
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/signin")
        page.wait_for_selector("#signin-button.green:not([disabled])", timeout=15_000)
        page.set_input_files("#photo", str(blank))
        page.wait_for_selector("#result[data-outcome]", timeout=30_000)
        assert "没有可识别的二维码" in page.inner_text("#result")
        assert sw.world.attempts() == []
        page.evaluate("document.querySelector('#result').removeAttribute('data-outcome')")
        page.set_input_files("#photo", str(photo))
        page.wait_for_selector("#result[data-outcome]", timeout=30_000)
        assert page.get_attribute("#result", "data-outcome") == "signed_in", page.inner_text("#result")
        [att] = sw.world.attendances()
        assert att.way == "A"
    finally:
        browser.close()
