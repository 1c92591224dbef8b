"""``kiosk run``: the kiosk. ``--headless`` runs the gate with no screen and prints JSON lines.

``kiosk run --headless --source SRC --db URL --project ID [--kiosk ID] [--config FILE]`` runs the whole
path — frame source → decode → dedupe → verify → sign-in service (``kiosk.gate``) — and prints one JSON
line per attempt: ``{"t", "source", "frame", "worker", "outcome", "reason", "message_zh",
"message_en", "latency_ms"}``. It ends at the end of a file or folder source; Ctrl-C and SIGTERM stop
it between frames, so every green sign-in printed is committed. ``--source -`` reads codes typed by a
keyboard-wedge scanner (one a line) from standard input. Camera state changes go to standard error.

Without ``--headless`` it opens the officer screen (``kiosk.app``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import add_config_arg, add_db_arg, print_json

if TYPE_CHECKING:
    import threading
    import uuid
    from collections.abc import Callable

    from kiosk.camera.sources import FrameSource
    from kiosk.config import Config
    from kiosk.gate import Gate, GateEvent

ORDER = 10


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="运行签到终端 / run the kiosk (--headless: no screen, JSON lines)",
        description="运行签到终端；--headless：无界面，从视频源读码签到，每次签到输出一行 JSON。 / Runs the "
        "kiosk. With --headless: reads codes from --source and signs workers in to --project, one JSON line "
        "per attempt on standard output.",
    )
    p.add_argument("--headless", action="store_true", help="无界面：每次签到输出一行 JSON / no screen: one JSON line per attempt")
    p.add_argument(
        "--source", metavar="SRC",
        help="视频源 / frame source: webcam index (0) or device (/dev/video0), rtsp/http URL, video file, "
        "folder of images, or - for a keyboard-wedge scanner on standard input (default: camera.source)",
    )
    add_db_arg(p)
    p.add_argument("--project", metavar="ID|NAME",
                   help="项目：编号（或其开头几位）或名称 / project: its id, the start of it, or its name "
                   "(default: kiosk.project)")
    p.add_argument("--kiosk", metavar="ID", help="本机编号 / this kiosk's id (default: kiosk.id)")
    p.add_argument("--decoder", choices=("zxingcpp", "pyzbar", "opencv"), help="解码器 / decoder (default: camera.decoder)")
    p.add_argument("--no-photos", action="store_true", help="不保存现场照片 / keep no gate photos (default: kiosk.gate_photos)")
    add_config_arg(p)
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if not args.headless:
        from kiosk.app import run_app  # type: ignore[import-not-found,unused-ignore]

        return int(run_app(args) or 0)
    return run_headless(args)


def _uuid(value: str, what: str) -> uuid.UUID:
    import uuid

    from store.errors import StoreError

    try:
        return uuid.UUID(value)
    except ValueError:
        raise StoreError(f"{what} 不是有效的编号：{value}", f"{what} is not a valid id: {value}") from None


def _state_reporter(state: Any, detail: str) -> None:
    print(f"[{state}] {detail}", file=sys.stderr, flush=True)


def build_gate(cfg: Config, args: argparse.Namespace, url: str) -> tuple[Gate, Any]:
    """The gate for the headless loop, and the engine it writes to (the caller disposes of it)."""
    from kiosk.gate import Gate
    from store.codes import TrustList, Verifier
    from store.db import open_store
    from store.errors import StoreError
    from store.roster import resolve_project
    from store.signin import SignInService

    project_arg = args.project or cfg.kiosk.project
    if not project_arg:
        raise StoreError("请用 --project 指定项目", "Name the project with --project")
    kiosk_arg = args.kiosk or cfg.kiosk.id
    kiosk_id = _uuid(kiosk_arg, "--kiosk") if kiosk_arg else None
    engine = open_store(url, synchronous=cfg.store.sqlite_synchronous)
    try:
        project_id = resolve_project(engine, project_arg).id  # an id, the start of one, or the name
        trust = TrustList.from_engine(engine)
        if cfg.codes.trust_file:
            trust = trust.merged(TrustList.from_file(cfg.codes.trust_file))
        if len(trust) == 0:
            print(
                "警告：没有受信任的签发密钥，所有建设码都将被拒绝（kiosk keys …）\n"
                "warning: no trusted issuer keys: every code will be refused (see kiosk keys …)",
                file=sys.stderr,
            )
        gate = Gate(
            service=SignInService(engine, cfg.sign_in_policy()),
            verifier=Verifier(trust, skew_s=cfg.policy.clock_skew_s),
            project_id=project_id,
            kiosk_id=kiosk_id,
            dedupe_window_s=cfg.camera.dedupe_window_s,
            gate_photos=cfg.kiosk.gate_photos and not args.no_photos,
            decoder=args.decoder or cfg.camera.decoder,
        )
    except BaseException:
        engine.dispose()
        raise
    return gate, engine


def run_frames(gate: Gate, source: FrameSource, emit: Callable[[GateEvent], None], stop: threading.Event) -> int:
    """The headless loop: every frame of ``source`` through the gate until it ends or ``stop`` is set
    (checked between frames, so an attempt is never cut in half). Returns the frames read."""
    n = 0
    while not stop.is_set():
        frame = source.read()
        if frame is None:
            break
        n += 1
        for ev in gate.handle_frame(frame):
            emit(ev)
    return n


def run_headless(args: argparse.Namespace) -> int:
    import signal
    import threading

    from kiosk.camera.sources import open_source, wedge_lines
    from kiosk.cli.common import config_of, db_url

    cfg = config_of(args)
    url = db_url(args)
    spec = args.source or cfg.camera.source
    gate, engine = build_gate(cfg, args, url)
    tz = cfg.policy.timezone
    stop = threading.Event()
    counts: dict[str, int] = {}
    source: Any = None
    reading = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()
        if source is not None and hasattr(source, "stop"):
            source.stop()  # wakes a source waiting to reconnect
        if reading.is_set():
            raise KeyboardInterrupt  # blocked reading the scanner's next line: nothing half-done

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    def emit(ev: Any) -> None:
        counts[ev.result.outcome.value] = counts.get(ev.result.outcome.value, 0) + 1
        print_json(ev.as_json(tz))

    try:
        if spec == "-":
            lines = wedge_lines(sys.stdin)
            while not stop.is_set():
                reading.set()
                try:
                    line = next(lines, None)
                finally:
                    reading.clear()
                if line is None:
                    break
                if (ev := gate.handle_text(line)) is not None:
                    emit(ev)
        else:
            source = open_source(spec, width=cfg.camera.width, height=cfg.camera.height, on_state=_state_reporter)
            run_frames(gate, source, emit, stop)
    except KeyboardInterrupt:
        pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if source is not None:
            source.close()
        engine.dispose()
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "0"
        print(f"结束 / stopped: {summary}", file=sys.stderr, flush=True)
    return 0
