"""Issue 27 in a real headless Chromium (Debian's /usr/bin/chromium, Playwright): the phone signs its own
code with its WebCrypto key, and the pages open with no signal (service worker).

- a bound phone registers its P-256 key; its code page shows a code signed on the phone, which the
  Python verifier accepts; with the network cut the code page opens from the phone, says so, and shows a
  code the kiosk (``Gate`` on a screenshot) signs in green;
- a phone without WebCrypto shows the server's code; offline past its end the code is greyed with what
  to do, never shown as valid;
- network errors are words, never an exception's text.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from support.browser import (
    PHONE,
    bind_in_browser,
    launch,
    need_chromium,
    playwright_fixture,  # noqa: F401  (the fixture `playwright`)
    shot,
)
from support.serve_world import ServeWorld, build_serve_world

from kiosk.serve.app import create_app
from kiosk.serve.run import BackgroundServer
from store.codes.devices import live_kid
from store.codes.tokens import TrustList, Verifier, parse_code
from store.people.phone import list_bindings
from store.reasons import Role

pytestmark = pytest.mark.browser

NO_WEBCRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', { get() { return undefined; } });"


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> Iterator[ServeWorld]:
    need_chromium()
    yield build_serve_world(sqlite_url, tmp_path)


@pytest.fixture
def server(sw: ServeWorld) -> Iterator[BackgroundServer]:
    srv = BackgroundServer(create_app(sw.ctx)).start()
    yield srv
    srv.stop()


def _controlled(page: Any) -> None:
    """Wait (bounded) until the service worker controls the page and holds the code page's assets."""
    page.wait_for_function(
        "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000
    )


def _gate_reads(sw: ServeWorld, png: bytes) -> list[Any]:
    from kiosk.gate import Gate
    from store.rules.signin import SignInService

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    gate = Gate(
        service=SignInService(sw.world.engine),
        verifier=sw.world.verifier(),
        project_id=sw.world.project,
        kiosk_id=uuid.uuid4(),
        gate_photos=False,
    )
    return gate.handle_image(image, source="phone-screenshot")


def test_offline_code_page_shows_a_phone_signed_code_the_kiosk_signs_in_green(
    sw: ServeWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser = launch(playwright)
    try:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        bind_in_browser(page, sw, server.url)  # the home page: the key is made and registered there
        [binding] = list_bindings(sw.world.engine, worker_id=sw.world.worker)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
        page.wait_for_function(
            "caches.keys().then((n) => n.find((x) => x.startsWith('pages-')))"
            ".then((n) => caches.open(n)).then((c) => c.match(location.origin + '/code')).then(Boolean)",
            timeout=20_000,
        )
        kid = None
        for _ in range(200):  # bounded wait for the phone's POST /api/device-key
            kid = live_kid(sw.world.engine, binding.id)
            if kid:
                break
            page.wait_for_timeout(100)
        assert kid
        ctx.set_offline(True)  # never opened the code page online: it opens all the same
        page.goto(server.url + "/code")
        page.wait_for_selector("#code-card[data-mode='device']", timeout=20_000)
        assert page.inner_text("#code-name") == "张伟"
        assert "今日可签到" in page.inner_text("#code-status")
        token = page.get_attribute("#qr", "data-token")
        code = parse_code(token)
        assert code.device and code.kid == kid and code.subject == sw.world.worker
        assert Verifier(TrustList.from_engine(sw.world.engine)).verify(token, role=Role.WORKER).device
        assert page.is_visible("#offline-line")
        assert "没有网络" in page.inner_text("#offline-line")
        assert page.is_hidden("#expired")
        png = shot(page, "code-offline")
        # the other pages open too, each saying it is the saved copy
        page.goto(server.url + "/")
        assert page.is_visible("#offline-line") and page.inner_text("#name") == "张伟"
    finally:
        browser.close()
    events = _gate_reads(sw, png)
    assert [e.result.outcome.value for e in events] == ["signed_in"], events


def test_without_webcrypto_the_server_code_greys_when_it_expires_offline(
    sw: ServeWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser = launch(playwright)
    try:
        ctx = browser.new_context(**PHONE)
        ctx.add_init_script(NO_WEBCRYPTO)
        page = ctx.new_page()
        page.clock.install()
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/code")
        page.wait_for_selector("#code-card[data-mode='server']", timeout=20_000)
        assert page.get_attribute("#qr", "data-source") == "server"
        assert page.is_hidden("#expired")
        ctx.set_offline(True)
        page.clock.fast_forward("02:10")
        page.wait_for_selector("#expired", state="visible", timeout=10_000)
        assert "已过期" in page.inner_text("#expired")
        assert "qrbox expired" in (page.get_attribute("#qr", "class") or "")
        assert page.is_hidden("#countdown")
        assert "Error" not in page.inner_text("main")  # words, never an exception's text
        shot(page, "code-expired")
    finally:
        browser.close()


def test_way_a_offline_keeps_the_scan_and_sends_it_when_the_signal_returns(
    sw: ServeWorld, server: BackgroundServer, playwright: Any, tmp_path: Path
) -> None:
    from support.way_a_world import NEAR
    from test_serve_browser import officer_y4m

    from store.codes.tokens import issue_code
    from store.timeutil import utcnow

    token = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
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
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/signin")
        page.wait_for_selector("#signin[data-decoder='ready']", timeout=30_000)  # fetched at load, no tap
        _controlled(page)
        page.wait_for_function(
            "caches.open('assets').then((c) => c.keys()).then((k) => k.some((r) => r.url.endsWith('.wasm')))",
            timeout=30_000,
        )
        ctx.set_offline(True)
        page.goto(server.url + "/signin")
        page.wait_for_selector("#signin[data-decoder='ready']", timeout=30_000)  # from the phone
        page.wait_for_function(
            "() => document.querySelector('#place-status').textContent.includes('没有网络')", timeout=15_000
        )
        page.click("#signin-button")
        page.wait_for_selector("#result[data-outcome='kept']", timeout=30_000)
        assert "无法确认" in page.inner_text("#result") and "Error" not in page.inner_text("#result")
        shot(page, "signin-kept")
        assert sw.world.attendances() == []
        ctx.set_offline(False)  # the signal returns: the kept scan goes by itself
        page.wait_for_selector("#result[data-outcome='signed_in']", timeout=30_000)
        assert "签到成功" in page.inner_text("#result")
        [att] = sw.world.attendances()
        assert att.way == "A" and att.officer_id == sw.world.officer
    finally:
        browser.close()


def test_an_officer_code_of_another_project_is_a_refusal_card_naming_it(
    sw: ServeWorld, server: BackgroundServer, playwright: Any, tmp_path: Path
) -> None:
    import re

    from support.way_a_world import NEAR
    from test_serve_browser import officer_y4m

    from store.codes.tokens import issue_code
    from store.timeutil import utcnow

    token = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.stranger, project=sw.world.other, at=utcnow()
    )
    video = officer_y4m(tmp_path / "other.y4m", token)
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
        bind_in_browser(page, sw, server.url)
        page.goto(server.url + "/signin")
        page.wait_for_selector("#signin-button.green:not([disabled])", timeout=15_000)
        page.click("#signin-button")
        page.wait_for_selector("#result[data-outcome='refused']", timeout=30_000)
        card = page.inner_text("#result")
        assert card.startswith("签到失败") and "「别的项目」" in card, card
        assert re.search(r"还有 \d+ 米", card) and not re.search(r"\d\.\d+ 米", card), card
        shot(page, "signin-refused")
    finally:
        browser.close()
