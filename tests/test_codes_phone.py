"""``kiosk code phone``: the stand-in phone shows a readable QR and renews it when it expires
(driven with Pilot and an injected clock, never sleep)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import zxingcpp
from PIL import Image
from textual.widgets import ProgressBar, Static

from kiosk.phone_app import PhoneApp
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import TrustList, Verifier
from store.reasons import Role

T0 = datetime(2026, 3, 2, 22, 55, 0, tzinfo=UTC)  # 06:55 in Shanghai the next morning


def decode_lines(text: str) -> list[str]:
    """Decode the QR drawn in half blocks (dark characters on light), as a camera would."""
    top = {" ": 0, "▀": 1, "▄": 0, "█": 1}
    bottom = {" ": 0, "▀": 0, "▄": 1, "█": 1}
    rows: list[list[int]] = []
    for line in text.splitlines():
        rows += [[top[c] for c in line], [bottom[c] for c in line]]
    grey = np.where(np.array(rows, dtype=np.uint8) == 1, 0, 255).astype(np.uint8)
    img = Image.fromarray(np.kron(grey, np.ones((4, 4), dtype=np.uint8)), mode="L")
    found = zxingcpp.read_barcodes(
        img,
        formats=zxingcpp.BarcodeFormat.QRCode,
        text_mode=zxingcpp.TextMode.Plain,  # type: ignore[arg-type]
    )
    return [r.text for r in found]


def test_phone_shows_a_code_and_renews_it_when_it_expires() -> None:
    asyncio.run(_renews())


async def _renews() -> None:
    key = IssuerPrivateKey.generate()
    worker = uuid.uuid4()
    now = [T0]
    verifier = Verifier(TrustList.of_keys(key), skew_s=0)
    app = PhoneApp(key, subject=worker, validity_s=120, clock=lambda: now[0])
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        first = app.token
        shown = str(app.query_one("#qr", Static).content)
        assert decode_lines(shown) == [first]
        ident = verifier.verify(first, role=Role.WORKER, at=now[0])
        assert ident.subject == worker and ident.expires_at == T0 + timedelta(seconds=120)
        countdown = str(app.query_one("#countdown", Static).content)
        assert "120" in countdown and "06:57:00" in countdown  # Shanghai time
        assert first not in countdown

        now[0] = T0 + timedelta(seconds=100)
        app.tick()
        await pilot.pause()
        assert app.token == first and app.renewals == 1
        assert "20" in str(app.query_one("#countdown", Static).content)
        assert app.query_one("#left", ProgressBar).progress == 20
        assert app.query_one("#countdown").has_class("ending") is False

        now[0] = T0 + timedelta(seconds=115)
        app.tick()
        await pilot.pause()
        assert app.query_one("#countdown").has_class("ending")

        now[0] = T0 + timedelta(seconds=120)  # expired: the phone makes a new code
        app.tick()
        await pilot.pause()
        second = app.token
        assert second != first and app.renewals == 2
        assert decode_lines(str(app.query_one("#qr", Static).content)) == [second]
        assert verifier.verify(second, role=Role.WORKER, at=now[0]).issued_at == now[0]

        now[0] += timedelta(seconds=5)
        await pilot.press("r")  # the refresh button
        await pilot.pause()
        assert app.renewals == 3 and app.token not in (first, second)
        await pilot.press("q")


def test_phone_in_english() -> None:
    asyncio.run(_english())


async def _english() -> None:
    key = IssuerPrivateKey.generate()
    app = PhoneApp(key, subject=uuid.uuid4(), clock=lambda: T0, lang="en", validity_s=60)
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        assert "Personal construction code" in str(app.query_one("#title", Static).content)
        assert "Renews in 60 s" in str(app.query_one("#countdown", Static).content)
