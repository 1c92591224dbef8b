"""``kiosk demo`` starts the phone service on 127.0.0.1 at a free port; its printed links work."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from kiosk.demo import make_demo
from kiosk.serve.demo import DemoPhones


def test_the_demo_links_open_a_workers_and_an_officers_phone(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, workers=60)
    phones = DemoPhones()
    assert phones.worker_link in phones.banner() and phones.base_url.startswith("http://127.0.0.1:")
    phones.start(demo)
    try:
        for link, page_word in ((phones.worker_link, "个人建设码"), (phones.officer_link, "签到员建设码")):
            with httpx.Client(base_url=phones.base_url) as client:
                page = client.get(link)
                assert page.status_code == 200 and "确认绑定" in page.text
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
                assert csrf
                bound = client.post(link, data={"csrf_token": csrf.group(1)}, follow_redirects=True)
                assert bound.status_code == 200 and "绑定成功" in bound.text
                code = client.get("/code")
                assert code.status_code == 200 and page_word in code.text and "<svg" in code.text
    finally:
        phones.stop()
    demo.engine.dispose()
