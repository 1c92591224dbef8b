"""Issue 27, the enrollment pages as a worker's phone uses them (headless Chromium at 360×640): the first tap
on 提交 after correcting the ID number is not lost; Back and reload keep what he typed and chose; photos
are shrunk on the phone, HEIC refused there, the upload shows its progress and can be cancelled; names
with invisible characters are refused; institutions come in pinyin order; the tap targets and the grey
button's contrast; an officer's phone has no 登记 tab; a used link opened again on its own phone goes
home."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import select
from support.browser import (
    bind_in_browser,
    need_chromium,
    phone,
    playwright_fixture,  # noqa: F401  (the fixture `playwright`)
    shot,
)
from support.enroll_serve_world import NEWCOMER_ID, EnrollWorld, build_enroll_world
from support.enroll_world import face_jpeg, id_card_jpeg

from kiosk.serve.app import create_app
from kiosk.serve.run import BackgroundServer
from store.db.engine import session, write_session
from store.db.models import RealnameSubmission
from store.people.enroll import add_health_institution

pytestmark = pytest.mark.browser

RADIO_AND_SWITCH_PX = 44


@pytest.fixture
def ew(sqlite_url: str, tmp_path: Path) -> EnrollWorld:
    need_chromium()
    return build_enroll_world(sqlite_url, tmp_path)


@pytest.fixture
def server(ew: EnrollWorld) -> Iterator[BackgroundServer]:
    srv = BackgroundServer(create_app(ew.sw.ctx)).start()
    yield srv
    srv.stop()


def big_photo(path: Path, size: tuple[int, int] = (4000, 3000)) -> str:
    """A 12 MP camera-sized JPEG (a face in a textured frame, so it compresses like a photo)."""
    w, h = size
    rng = np.random.default_rng(27)
    base = rng.integers(40, 200, (h // 8, w // 8, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize((w, h), Image.Resampling.BICUBIC)
    im.paste(Image.open(io.BytesIO(face_jpeg())).resize((h // 2, h // 2)), (w // 3, h // 4))
    im.save(path, "JPEG", quality=92)
    return str(path)


def choose(page: Any, field: str, path: str) -> str:
    page.set_input_files(f"#{field}", path)
    box = f'.field[data-field="{field}"]'
    page.wait_for_selector(f"{box}[data-photo]", timeout=60_000)
    return str(page.get_attribute(box, "data-photo"))


def count(ew: EnrollWorld) -> int:
    with session(ew.engine) as s:
        return int(s.exec(select(func.count()).select_from(RealnameSubmission)).one())


def test_the_first_tap_after_correcting_the_id_number_is_not_lost(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/realname")
        page.fill("#id_number", NEWCOMER_ID[:-1] + "1")
        page.press("#id_number", "Tab")
        page.wait_for_selector('.field[data-field="id_number"] .field-error:not([hidden])')
        page.fill("#id_number", NEWCOMER_ID)  # corrected; the field still has the focus
        page.locator("#submit").scroll_into_view_if_needed()
        before = page.locator("#submit").bounding_box()
        x, y = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
        # the finger comes down on 提交: the field loses the focus and the number is checked again; on a
        # phone's network the answer comes after the finger is up (held here until then)
        held: list[Any] = []
        page.route("**/api/enroll/id-number*", lambda route: held.append(route))
        page.mouse.move(x, y)
        page.mouse.down()
        for _ in range(200):  # the check was asked for (bounded wait on a condition)
            if held:
                break
            page.wait_for_timeout(25)
        assert held
        after = page.locator("#submit").bounding_box()
        assert after["y"] == before["y"]  # the button did not move under the finger
        page.mouse.up()
        page.wait_for_selector("#enroll-form[data-state]")  # the tap was taken: the form was sent
        for route in held:
            route.continue_()
        assert page.get_attribute("#enroll-form", "data-state") in ("sending", "error")
    finally:
        browser.close()


def test_back_and_reload_keep_what_he_typed_and_the_photos(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any, tmp_path: Path
) -> None:
    (tmp_path / "front.jpg").write_bytes(id_card_jpeg("front"))
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/realname")
        assert choose(page, "front_image", str(tmp_path / "front.jpg")) == "ready"
        page.fill("#id_number", NEWCOMER_ID)
        page.fill("#name", "王小二")
        page.reload()
        page.wait_for_selector("#enroll-form[data-restored]")
        assert page.input_value("#id_number") == NEWCOMER_ID and page.input_value("#name") == "王小二"
        assert page.is_visible("#front_image-preview")
        page.goto(server.url + "/enroll")
        page.go_back()
        page.wait_for_selector("#enroll-form[data-restored]")
        assert page.input_value("#name") == "王小二" and page.is_visible("#front_image-preview")
        shot(page, "enroll-restored")
    finally:
        browser.close()


def test_photos_are_shrunk_on_the_phone_with_progress_and_a_cancel(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any, tmp_path: Path
) -> None:
    big = big_photo(tmp_path / "camera.jpg")
    assert Path(big).stat().st_size > 2_000_000
    (tmp_path / "photo.heic").write_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 4000)
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/realname")
        sent: list[int] = []
        page.on(
            "request",
            lambda r: (
                sent.append(len(r.post_data_buffer or b"")) if "/api/enroll/realname" in r.url else None
            ),
        )
        # HEIC (an iPhone's default) is refused on the phone, before anything is sent
        assert choose(page, "face_photo", str(tmp_path / "photo.heic")) == "bad"
        assert "HEIC" in page.inner_text('.field[data-field="face_photo"] .field-error')
        for field in ("front_image", "back_image", "face_photo"):
            assert choose(page, field, big) == "ready"
        page.fill("#id_number", NEWCOMER_ID)
        # a slow network: the progress bar moves, and 取消上传 stops the upload, keeping everything
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 20_000},
        )
        page.click("#submit")
        page.wait_for_selector("#upload:not([hidden])")
        assert page.is_visible("#cancel-upload")
        shot(page, "enroll-uploading")
        page.click("#cancel-upload")
        page.wait_for_selector('#enroll-form[data-state="cancelled"]')
        assert "已取消" in page.inner_text("#form-error")
        assert page.input_value("#id_number") == NEWCOMER_ID and page.is_visible("#face_photo-preview")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        page.click("#submit")
        page.wait_for_selector(
            '#enroll-form[data-state="done"], #enroll-form[data-state="error"]', timeout=60_000
        )
        # three 12 MP photos went up at the size the service keeps (1 600 px JPEGs), not megabytes each
        assert sent and sent[-1] < 1_500_000, sent
        assert Path(big).stat().st_size * 3 > 4 * sent[-1]
    finally:
        browser.close()


def test_a_name_with_an_invisible_character_is_refused_on_the_phone(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/realname")
        page.fill("#id_number", NEWCOMER_ID)
        page.fill("#name", "王\u202e二")
        page.click("#submit")
        page.wait_for_selector('#enroll-form[data-state="error"]')
        error = page.inner_text('.field[data-field="name"] .field-error')
        assert "看不见的字符" in error and "U+202E" in error
        assert count(ew) == 0
    finally:
        browser.close()


def test_health_page_sorts_institutions_by_pinyin_and_targets_are_big_enough(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    with write_session(ew.engine) as s:
        for name in ("浙江某体检中心", "北京某医院", "长沙某卫生院", "爱康某门诊"):
            add_health_institution(session=s, name=name)
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, worker=ew.newcomer)
        page.goto(server.url + "/enroll/health")
        names = page.eval_on_selector_all("#institution option", "os => os.map(o => o.textContent)")
        ours = [n for n in names if n in ("浙江某体检中心", "北京某医院", "长沙某卫生院", "爱康某门诊")]
        assert ours == ["爱康某门诊", "北京某医院", "长沙某卫生院", "浙江某体检中心"]
        assert names[-1] == "其他"
        for sel in ("label.pill", "header .lang"):
            for box in (page.locator(sel).nth(i).bounding_box() for i in range(page.locator(sel).count())):
                assert box["height"] >= RADIO_AND_SWITCH_PX and box["width"] >= RADIO_AND_SWITCH_PX, (
                    sel,
                    box,
                )
        shot(page, "enroll-health-empty")
        # the grey (disabled) button's text: at least 4.5:1
        page.evaluate("document.getElementById('submit').disabled = true")
        fg, bg = page.evaluate(
            "(() => { const s = getComputedStyle(document.getElementById('submit'));"
            " return [s.color, s.backgroundColor]; })()"
        )
        assert contrast(fg, bg) >= 4.5, (fg, bg)
    finally:
        browser.close()


def contrast(fg: str, bg: str) -> float:
    def lum(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_an_officer_phone_has_no_enroll_tab(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    try:
        bind_in_browser(page, ew.sw, server.url, officer=ew.sw.world.officer)
        for path in ("/", "/code", "/signin"):
            page.goto(server.url + path)
            assert page.locator('nav.tabs a[href="/enroll"]').count() == 0, path
    finally:
        browser.close()


def test_a_used_link_opened_again_on_its_own_phone_goes_home(
    ew: EnrollWorld, server: BackgroundServer, playwright: Any
) -> None:
    browser, page = phone(playwright)
    other = browser.new_context(viewport={"width": 360, "height": 640}).new_page()
    try:
        link = ew.sw.link(worker=ew.newcomer)
        page.goto(server.url + link)
        page.click("#bind")
        page.wait_for_url(server.url + "/?bound=1")
        page.goto(server.url + link)
        page.wait_for_url(server.url + "/")
        assert page.locator("nav.tabs").count() == 1  # his home page
        other.goto(server.url + link)  # another phone: the link is used up
        assert "已使用" in other.inner_text("main")
    finally:
        browser.close()
