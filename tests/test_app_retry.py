"""The officer screen reads frames zxing-cpp alone cannot: the camera's worker runs the chain's quick
pass, a frame with a code it could not read goes to the retry worker, whose result comes back like any
other (issue 15)."""

from __future__ import annotations

from support.async_tests import run_async
from support.officer_app import ScriptedCamera, app_of, attendances, officer_code, settle

from kiosk.camera.decoders import make_decoder
from kiosk.camera.simulate import hard_frame, phone_frame
from kiosk.demo import Demo
from kiosk.officer.widgets.result_card import ResultCard
from store.people.seed import ELIGIBLE


def _blurred_phone(token: str) -> object:
    """A phone moving fast: two modules of motion blur (the quick pass reads none of it)."""
    for seed in range(10):
        frame = hard_frame(token, "motion", seed=seed, motion=1.95, motion_angle=60.0)
        chain = make_decoder(budget_ms=1000)
        look = chain.quick(frame)
        if not look.found and look.worth_retrying and [d.text for d in chain.retry(frame, look)] == [token]:
            return frame
    raise AssertionError("no blurred frame the chain reads")


@run_async
async def test_a_blurred_phone_is_signed_in_by_the_retry_worker(demo: Demo) -> None:
    token = demo.code(demo.examples(ELIGIBLE)[5])
    blurred = _blurred_phone(token)
    assert make_decoder(fallback=False, retries=False)(blurred) == []  # type: ignore[arg-type]
    officer = phone_frame(officer_code(demo), seed=1)
    cam = ScriptedCamera([[officer, officer], [blurred, blurred, blurred]])  # type: ignore[list-item]
    app = app_of(demo, cam)
    async with app.run_test(size=(120, 40)) as pilot:
        await cam.next_act()
        await pilot.pause()
        unlocking = [w for w in app.workers if w.group == "unlock"]
        if unlocking:
            await app.workers.wait_for_complete(unlocking)
        await pilot.pause()
        assert app.current_mode == "officer"
        cam.go.set()
        await app.workers.wait_for_complete()  # the camera ends after its frames, the retries with it
        await settle(app, pilot)
        assert app.retries >= 1 and app.retries_read >= 1
        assert app.screen.query_one(ResultCard).kind == "ok"
        assert attendances(demo) == 1  # three frames of one code: one sign-in
