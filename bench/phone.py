"""Benchmark of the worker's phone pages in Chromium (issue 27): ``python bench/phone.py [--quick]``.

A synthetic way-A world (one project, one worker able to sign in, store in a temporary SQLite file) behind
the real service (uvicorn on a free port of 127.0.0.1), opened in Debian's Chromium (Playwright) as a
360×640 phone bound to the worker (its device cookie set as the activation link sets it), the position
~70 m from the project's centre.

Sections (each a function of ``SECTIONS`` adding its keys to the result; other sections join the list):

- ``code_page``: ``code_page_kb_cold`` — every byte the service sends (headers and bodies, compressed as
  sent) while a phone with nothing cached opens the code page, makes and registers its key, signs and
  draws its code, and its service worker installs and fetches what it keeps (pages, styles, scripts,
  the QR drawer): counted at the server, so the service worker's own fetches are in it. Goal ≤ 150.
- ``signin_page``: the sign-in page (way A) under Chrome DevTools' "Slow 3G" (CDP
  ``Network.emulateNetworkConditions``: 2 000 ms latency, 50 000 bytes/s each way), from the start of
  the navigation until the page is ready for the tap — the 签到 button green, i.e. the page, its scripts
  and the service's answer on the position have arrived (``signin_page_s_slow3g_cold`` goal ≤ 8,
  ``…_warm`` goal ≤ 3); and until the QR decoder is compiled (``signin_decoder_s_slow3g_cold`` /
  ``…_warm``, which the page starts at load, not at the first tap). Cold: a first visit (nothing cached,
  no service worker yet). Warm: the service worker installed and the page visited once before (the
  decoder kept); CDP throttles the page's own requests; the service worker's revalidation of the page
  runs behind it, off the measured path. A warm page whose phone stands where the service judged it
  inside minutes before shows the green button at once (marked 正在确认…); ``signin_place_s_slow3g_*``
  is until the service's own answer on the position has arrived.

``--quick``: each browser measurement once (else the median of three). The last line printed is one JSON
object. The machine's load average is printed with it (this machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' way-A world and browser settings (tests/support/)

from support.browser import CHROMIUM, FLAGS, PHONE  # noqa: E402
from support.serve_world import ServeWorld, build_serve_world  # noqa: E402
from support.way_a_world import NEAR  # noqa: E402

from kiosk.serve.app import create_app  # noqa: E402
from kiosk.serve.run import BackgroundServer  # noqa: E402
from store.db.migrate import upgrade  # noqa: E402
from store.people.phone import activate, create_link  # noqa: E402

#: Chrome DevTools' "Slow 3G" preset, as CDP takes it
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


class ByteCounter:
    """ASGI wrapper counting what the service sends: status line and headers (approximated as HTTP/1.1
    text) and bodies as sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.sent += 17 + sum(len(k) + len(v) + 4 for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                self.sent += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)


@dataclass
class Bench:
    world: ServeWorld
    server: BackgroundServer
    counter: ByteCounter
    browser: Any
    quick: bool
    result: dict[str, Any] = field(default_factory=dict)

    def phone(self, **extra: Any) -> Any:
        """A new phone context bound to the worker (a fresh binding each, as after a new link)."""
        secret, _dev = activate(
            self.world.world.engine,
            create_link(self.world.world.engine, worker_id=self.world.world.worker).token,
        )
        ctx = self.browser.new_context(
            **PHONE,
            geolocation={"latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 10},
            permissions=["geolocation"],
            bypass_csp=True,  # the bench's own waiting predicates are strings evaluated in the page
            **extra,
        )
        ctx.add_cookies(
            [
                {
                    "name": "kiosk_device",
                    "value": secret,
                    "url": self.server.url,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )
        return ctx

    def repeat(self, fn: Callable[[], float]) -> float:
        runs = [fn() for _ in range(1 if self.quick else 3)]
        return round(statistics.median(runs), 2)


def code_page(b: Bench) -> None:
    def once() -> float:
        ctx = b.phone()
        try:
            page = ctx.new_page()
            b.counter.sent = 0
            page.goto(b.server.url + "/code")
            page.wait_for_selector("#code-card[data-mode='device']", timeout=60_000)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
            page.wait_for_function(
                "caches.open('assets').then((c) => c.keys()).then((k) => k.length >= 5)", timeout=60_000
            )
            return b.counter.sent / 1024
        finally:
            ctx.close()

    b.result["code_page_kb_cold"] = round(b.repeat(once), 1)


def _throttled(ctx: Any, page: Any) -> None:
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)


def _measure(page: Any, url: str) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_selector("#signin-button.green", timeout=120_000)
    ready = time.perf_counter() - t0
    page.wait_for_selector("#signin[data-judged='1']", timeout=120_000)
    judged = time.perf_counter() - t0
    page.wait_for_selector("#signin[data-decoder='ready']", timeout=180_000)
    return ready, time.perf_counter() - t0, judged


def signin_page(b: Bench) -> None:
    url = b.server.url + "/signin"
    cold: list[tuple[float, float, float]] = []
    warm: list[tuple[float, float, float]] = []
    for _ in range(1 if b.quick else 3):
        ctx = b.phone(service_workers="block")  # a first visit: no service worker yet
        try:
            page = ctx.new_page()
            _throttled(ctx, page)
            cold.append(_measure(page, url))
        finally:
            ctx.close()
        ctx = b.phone()
        try:
            page = ctx.new_page()
            page.goto(
                url
            )  # the first visit, online: the service worker installs and keeps the page and decoder
            page.wait_for_selector("#signin[data-decoder='ready']", timeout=60_000)
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
            page.wait_for_function(
                "caches.open('assets').then((c) => c.keys()).then((k) => k.some((r) => r.url.endsWith('.wasm')))",
                timeout=60_000,
            )
            page.reload()
            page.wait_for_selector("#signin[data-decoder='ready']", timeout=60_000)
            page.close()
            page = ctx.new_page()
            _throttled(ctx, page)
            warm.append(_measure(page, url))
        finally:
            ctx.close()
    for name, runs in (("cold", cold), ("warm", warm)):
        b.result[f"signin_page_s_slow3g_{name}"] = round(statistics.median(r[0] for r in runs), 2)
        b.result[f"signin_decoder_s_slow3g_{name}"] = round(statistics.median(r[1] for r in runs), 2)
        b.result[f"signin_place_s_slow3g_{name}"] = round(statistics.median(r[2] for r in runs), 2)


#: each section adds its keys to the result (t27b's upload and decode-safety sections join here)
SECTIONS: list[Callable[[Bench], None]] = [code_page, signin_page]


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each browser measurement once")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-phone-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'shared.db'}"
        upgrade(url)
        world = build_serve_world(url, Path(tmp))
        counter = ByteCounter(create_app(world.ctx))
        server = BackgroundServer(counter).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                try:
                    b = Bench(world, server, counter, browser, args.quick)
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
