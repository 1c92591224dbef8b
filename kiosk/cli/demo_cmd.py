"""``kiosk demo [--speed X]``: the officer screen on demo data and a simulated camera (no camera, no
server), and the workers' phone service beside it on 127.0.0.1 (``--no-phones`` leaves it out)."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kiosk.camera.simulate import SimulatedCamera
    from kiosk.officer.app import KioskApp
    from kiosk.serve.demo import DemoPhones

ORDER = 5


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "demo",
        help="演示：模拟摄像头与演示数据 / the kiosk on demo data with a simulated camera",
        description="Makes a temporary store with synthetic workers (seed-demo) and a demo issuer key, "
        "and shows the officer screen with a simulated phone queue: the officer unlocks, then eligible "
        "workers, second scans, expired codes, refusals of every kind and garbage. Nothing is kept.",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="演示速度 / faster (2 = twice as fast; default 1, a human pace)",
    )
    p.add_argument(
        "--workers", type=int, default=300, metavar="N", help="演示工人数 / demo workers (default 300)"
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="界面语言 / screen language (default zh)"
    )
    p.add_argument(
        "--no-phones",
        action="store_true",
        help="不启动手机服务 / do not start the phone service (kiosk serve) beside it",
    )
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from store.errors import StoreError

    if not 0.1 <= args.speed <= 100:
        raise StoreError("--speed 须在 0.1 到 100 之间", "--speed must be between 0.1 and 100")
    if not 20 <= args.workers <= 100_000:
        raise StoreError("--workers 须在 20 到 100000 之间", "--workers must be between 20 and 100000")
    from kiosk.widgets.preview import terminal_has_images

    phones = None
    if not args.no_phones:
        from kiosk.serve.demo import DemoPhones

        phones = DemoPhones()
        print(phones.banner(), flush=True)
    images = terminal_has_images()  # asks the terminal: before the app takes it over
    with tempfile.TemporaryDirectory(prefix="kiosk-demo-", ignore_cleanup_errors=True) as folder:
        app = demo_app(
            Path(folder),
            speed=args.speed,
            workers=args.workers,
            language=args.lang,
            image_preview=images,
            phones=phones,
        )
        try:
            app.run()
        finally:
            app.camera_released.wait(10)  # no commit still running when the folder goes
            if phones is not None:
                phones.stop()
            app.engine.dispose()
    return 0


def demo_app(
    folder: Path,
    *,
    speed: float = 1.0,
    workers: int = 300,
    language: str = "zh",
    image_preview: bool = False,
    phones: DemoPhones | None = None,
    hard_every: int = 0,
) -> KioskApp:
    """The demo's app (also used by ``bench/tui.py``; ``hard_every``: see ``SimulatedCamera``); with
    ``phones``, the phone service starts beside it once the store is ready (a thread of its own: the
    camera does not wait for it)."""
    from kiosk.camera.frames import StateCallback
    from kiosk.demo import start_demo
    from kiosk.officer.app import build_app

    demo = start_demo(folder, workers=workers, language=language, card_s=max(0.5, 3.0 / speed))

    def queue() -> Iterator[str]:
        """The workers at the gate: they come once the demo's store is made (migrated, seeded), which
        happens on the simulated camera's drawing thread while the camera already shows the empty gate."""
        from store.sync.identity import kiosk_identity  # here, off the screen's start path

        demo.prepare()
        app.kiosk_id = kiosk_identity(demo.engine, name=demo.config.kiosk.name)
        if phones is not None:
            threading.Thread(target=start_phones, name="demo-phones", daemon=True).start()
        yield from demo.tokens()

    def camera(on_state: StateCallback) -> SimulatedCamera:
        """Runs in the camera's worker: OpenCV and numpy load there, after the screen is drawn (issue 29)."""
        from kiosk.camera.simulate import SimulatedCamera

        cam = SimulatedCamera(
            queue(),
            fps=min(30.0, 15.0 * max(1.0, speed)),
            show_s=1.5 / speed,
            gap_s=1.0 / speed,
            size=(960, 540),
            on_state=on_state,
            hard_every=hard_every,
        )
        cam.open()
        return cam

    def start_phones() -> None:
        assert phones is not None
        try:
            phones.start(demo)
        except Exception as exc:  # the kiosk demo goes on without its phones
            app.call_from_thread(
                app.notify,
                f"手机服务未能启动 / the phone service did not start: {type(exc).__name__}",
                severity="warning",
            )
            return
        app.call_from_thread(app.notify, phones.banner(), timeout=30)

    app = build_app(
        demo.services(issuer_key=demo.officer_key, demo=True), camera, image_preview=image_preview
    )
    return app
