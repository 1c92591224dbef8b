"""The phone pages in a real headless Chromium (Playwright): where Chromium is (``KIOSK_CHROMIUM``), skipping
or failing (CI=true) without it, a phone-sized context, screenshots (``KIOSK_SCREENSHOTS``), the requests a
page makes, binding a phone through its activation link."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from support.serve_world import ServeWorld

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def need_chromium() -> None:
    why = None
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        why = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; ./dev test does it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "the playwright package is missing (pip install -e '.[test]')"
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + " — CI needs it")
    pytest.skip(why + " — skipping the browser tests")


def launch(playwright: Any, *extra: str) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*FLAGS, *extra])


def fits_the_phone(page: Any) -> None:
    """Usable at 360×640: nothing wider than the screen (no sideways scrolling), the main button reachable."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def shot(page: Any, name: str) -> bytes:
    fits_the_phone(page)
    png = page.screenshot(full_page=False)
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"phone-{name}.png").write_bytes(png)
    return bytes(png)


def own_assets_only(page: Any) -> list[str]:
    """Every request the page makes, to check none leaves the service."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def bind_in_browser(page: Any, sw: ServeWorld, base: str, **link: Any) -> None:
    page.goto(base + sw.link(**link))
    page.wait_for_selector("#bind")
    page.click("#bind")
    page.wait_for_url(base + "/?bound=1")
