"""Driving the admin app in a test: wait for its workers, fill and submit a form dialog, read what it says."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static
from textual.worker import WorkerCancelled

from kiosk.admin.forms import FormScreen


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker (loads, saves, captures) is done and its messages are handled."""
    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue  # an exclusive worker replaced by a newer one: wait for that one on the next pass
        await pilot.pause()


async def fill(pilot: Pilot[None], **values: str) -> FormScreen[object]:
    screen = pilot.app.screen
    assert isinstance(screen, FormScreen), type(screen)
    for key, value in values.items():
        widget = screen.query_one(f"#f-{key}")
        assert isinstance(widget, Input | Select)
        widget.value = value
    screen.query_one("#submit", Button).press()
    await settle(pilot)
    return screen


def first_of(pilot: Pilot[None], *keys: str) -> dict[str, str]:
    """The first choice of each list ``keys`` of the open form (a form starts with nothing chosen), as
    ``fill`` takes them."""
    screen = pilot.app.screen
    assert isinstance(screen, FormScreen), type(screen)
    out = {}
    for key in keys:
        f = next(f for f in screen.fields if f.key == key)
        assert f.options, key
        out[key] = f.options[0][1]
    return out


def error_of(screen: FormScreen[object]) -> str:
    """What the dialog says: beside a field (the one it is about) or above the buttons."""
    lines = [screen.query_one("#form-error", Static), *screen.query(".field-error").results(Static)]
    return "\n".join(str(w.render()) for w in lines if w.display)
