"""Benchmark of the phone uploads and what they may cost the service (issue 27):
``python bench/phone_uploads.py [--quick]``; its sections also join ``bench/phone.py``'s ``SECTIONS``.

A synthetic way-A world (tests/support/serve_world.py: one project, one worker) in a temporary SQLite
file behind the real service (uvicorn on a free port of 127.0.0.1, in this process), and Debian's
Chromium (Playwright) as a 360×640 phone bound to the worker.

Sections (each a function taking the bench — ``world``, ``server``, ``browser``, ``quick``, ``result`` —
and adding its keys to ``result``):

- ``upload_realname``: ``upload_realname_s_fast3g`` — 个人信息采集 with three 12 MP camera photos (4 000 ×
  3 000 JPEGs of 3–4 MB each) under Chrome DevTools' "Fast 3G" (CDP ``Network.emulateNetworkConditions``:
  562.5 ms latency, 180 000 B/s down, 84 375 B/s up), from the first photo chosen (the phone reads and
  shrinks each to 1 600 px) until the page shows the service's answer (sent, 待审核). Goal ≤ 15.
  ``upload_realname_submit_s_fast3g`` is the part from the tap on 提交, ``upload_realname_kb`` what went up.
- ``scan_bomb``: ``scan_bomb_cpu_s`` — the CPU time of this process (the service) while it answers one
  upload whose ID card back is the 6 000-scan progressive JPEG (tests/support/upload_bombs.py, 240 KB),
  sent over HTTP as the page would (device cookie, CSRF). Goal ≤ 1.
- ``burst_rss``: ``burst_rss_mb`` — eight uploads at once, each with a 50 MP PNG of 160 KB as its ID card
  front: the service process's peak resident memory above idle (sampled every 5 ms; idle after one such
  upload, so imports and caches are in it) — goal ≤ 400 — and ``burst_rss_after_mb``, above idle once
  every answer is in (goal ≤ 50: the memory went back). ``burst_s`` is how long the eight took (they
  decode one after the other within the shared pixel budget).

``--quick``: each browser measurement once (else the median of three). The last line printed is one JSON
object, with the machine's load average (it is shared).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' worlds and hostile files (tests/support/)

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from support.browser import CHROMIUM, FLAGS, PHONE  # noqa: E402
from support.enroll_world import face_jpeg, id_card_jpeg  # noqa: E402
from support.serve_world import ServeWorld, build_serve_world  # noqa: E402
from support.upload_bombs import png_bomb, scan_bomb  # noqa: E402

from kiosk.serve.app import create_app  # noqa: E402
from kiosk.serve.run import BackgroundServer  # noqa: E402
from store.db.engine import session  # noqa: E402
from store.db.migrate import upgrade  # noqa: E402
from store.db.models import Worker  # noqa: E402
from store.people.phone import activate, create_link  # noqa: E402

#: Chrome DevTools' "Fast 3G" preset, as CDP takes it
FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}
DEVICE_COOKIE = "kiosk_device"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _device(b: Any) -> str:
    """A new binding of the world's worker (as his activation link makes it): the device cookie's value."""
    engine = b.world.world.engine
    secret, _dev = activate(engine, create_link(engine, worker_id=b.world.world.worker).token)
    return secret


def _worker(b: Any) -> tuple[str, str]:
    with session(b.world.world.engine) as s:
        w = s.get(Worker, b.world.world.worker)
        assert w is not None and w.id_number is not None
        return w.id_number, w.name


def camera_photo(path: Path, seed: int, face: bool = False) -> Path:
    """A 12 MP JPEG as a phone camera writes it (3–4 MB): smooth light and shade, the subject, sensor
    noise."""
    rng = np.random.default_rng(seed)
    w, h = 4000, 3000
    im = Image.fromarray(rng.integers(70, 190, (30, 40, 3), dtype=np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    if face:
        im.paste(Image.open(io.BytesIO(face_jpeg())).resize((1600, 1600)), (1200, 700))
    else:
        card = Image.open(io.BytesIO(id_card_jpeg("front" if seed % 2 else "back"))).resize((3000, 1890))
        im.paste(card, (500, 555))
    arr = np.asarray(im).astype(np.int16) + rng.integers(-4, 5, (h, w, 3), dtype=np.int16)
    Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(path, "JPEG", quality=95)
    return path


def _phone(b: Any) -> Any:
    ctx = b.browser.new_context(**PHONE)
    ctx.add_cookies(
        [
            {
                "name": DEVICE_COOKIE,
                "value": _device(b),
                "url": b.server.url,
                "httpOnly": True,
                "sameSite": "Strict",
            }
        ]
    )
    return ctx


def upload_realname(b: Any) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    photos = {
        "front_image": camera_photo(tmp / "front.jpg", 1),
        "back_image": camera_photo(tmp / "back.jpg", 2),
        "face_photo": camera_photo(tmp / "face.jpg", 3, face=True),
    }
    id_number, name = _worker(b)
    totals: list[float] = []
    submits: list[float] = []
    sent: list[int] = []
    for _ in range(1 if b.quick else 3):
        ctx = _phone(b)
        try:
            page = ctx.new_page()
            page.goto(b.server.url + "/enroll/realname")
            page.wait_for_selector("#enroll-form")
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", FAST_3G)
            t0 = time.perf_counter()
            for field_name, path in photos.items():
                page.set_input_files(f"#{field_name}", str(path))
                page.wait_for_selector(
                    f'.field[data-field="{field_name}"][data-photo="ready"]', timeout=120_000
                )
            page.fill("#id_number", id_number)
            page.fill("#name", name)
            t1 = time.perf_counter()
            # what goes up: the shrunk photos the page keeps (base64 in sessionStorage: 4 chars a 3 bytes)
            sent.append(
                page.evaluate(
                    "Object.values(JSON.parse(sessionStorage.getItem('enroll:/api/enroll/realname')).photos)"
                    ".reduce((n, u) => n + Math.floor((u.length - u.indexOf(',') - 1) * 3 / 4), 0)"
                )
            )
            page.click("#submit")
            page.wait_for_selector(
                '#enroll-form[data-state="done"], #enroll-form[data-state="error"]', timeout=300_000
            )
            t2 = time.perf_counter()
            state = page.get_attribute("#enroll-form", "data-state")
            if state != "done":
                raise SystemExit(f"upload refused: {page.get_attribute('#enroll-form', 'data-message')}")
            totals.append(t2 - t0)
            submits.append(t2 - t1)
        finally:
            ctx.close()
    b.result["upload_realname_s_fast3g"] = round(statistics.median(totals), 2)
    b.result["upload_realname_submit_s_fast3g"] = round(statistics.median(submits), 2)
    b.result["upload_realname_kb"] = round(max(sent) / 1024, 1)
    b.result["upload_camera_photos_kb"] = round(sum(p.stat().st_size for p in photos.values()) / 1024, 1)


def _client(b: Any) -> tuple[httpx.Client, str]:
    """An HTTP client with a bound phone's cookie and the CSRF token its page carries."""
    client = httpx.Client(base_url=b.server.url, cookies={DEVICE_COOKIE: _device(b)}, timeout=300)
    page = client.get("/enroll/realname").text
    m = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert m, "no CSRF token in the page"
    return client, m.group(1)


def _post(client: httpx.Client, csrf: str, id_number: str, name: str, **files: bytes) -> httpx.Response:
    photos = {
        "front_image": id_card_jpeg("front"),
        "back_image": id_card_jpeg("back"),
        "face_photo": face_jpeg(),
    }
    photos.update(files)
    return client.post(
        "/api/enroll/realname",
        headers={"X-CSRF-Token": csrf},
        data={"id_number": id_number, "name": name},
        files={k: (f"{k}.bin", v, "application/octet-stream") for k, v in photos.items()},
    )


def scan_bomb_section(b: Any) -> None:
    id_number, name = _worker(b)
    bomb = scan_bomb(6000)
    client, csrf = _client(b)
    try:
        cpu = time.process_time()
        r = _post(client, csrf, id_number, name, back_image=bomb)
        b.result["scan_bomb_cpu_s"] = round(time.process_time() - cpu, 3)
        b.result["scan_bomb_status"] = r.status_code
    finally:
        client.close()


def burst_rss(b: Any) -> None:
    import gc

    id_number, name = _worker(b)
    bomb = png_bomb()
    client, csrf = _client(b)
    try:
        _post(client, csrf, id_number, name, front_image=bomb)  # the first: imports, caches
        gc.collect()
        idle = _rss_mb()
        peak = [idle]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mb())
                time.sleep(0.005)

        statuses: list[int] = []
        answers: list[str] = []

        def one() -> None:
            r = _post(client, csrf, id_number, name, front_image=bomb)
            statuses.append(r.status_code)
            answers.append(r.json().get("message_en", ""))

        watcher = threading.Thread(target=watch)
        watcher.start()
        t0 = time.perf_counter()
        posts = [threading.Thread(target=one) for _ in range(8)]
        for t in posts:
            t.start()
        for t in posts:
            t.join()
        burst_s = time.perf_counter() - t0
        done.set()
        watcher.join()
        gc.collect()
        after = _rss_mb()
    finally:
        client.close()
    b.result["burst_rss_mb"] = round(peak[0] - idle, 1)
    b.result["burst_rss_after_mb"] = round(after - idle, 1)
    b.result["burst_idle_rss_mb"] = round(idle, 1)
    b.result["burst_s"] = round(burst_s, 1)
    b.result["burst_statuses"] = sorted(statuses)
    b.result["burst_answers"] = sorted(set(answers))


#: the sections bench/phone.py runs too (its SECTIONS += these)
SECTIONS: list[Callable[[Any], None]] = [scan_bomb_section, burst_rss, upload_realname]


@dataclass
class Bench:
    """What each section reads (bench/phone.py's own Bench has the same fields)."""

    world: ServeWorld
    server: BackgroundServer
    browser: Any
    quick: bool
    result: dict[str, Any] = field(default_factory=dict)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each browser measurement once")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-phone-uploads-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'shared.db'}"
        upgrade(url)
        world = build_serve_world(url, Path(tmp))
        server = BackgroundServer(create_app(world.ctx)).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                try:
                    b = Bench(world, server, browser, args.quick)
                    for section in SECTIONS:
                        t0 = time.perf_counter()
                        section(b)
                        print(f"{section.__name__}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
                finally:
                    browser.close()
        finally:
            server.stop()
            world.ctx.engine.dispose()
            world.world.engine.dispose()
    b.result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(b.result))


if __name__ == "__main__":
    main()
