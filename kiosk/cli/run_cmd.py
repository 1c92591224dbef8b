"""``kiosk run``: the kiosk. ``--headless`` runs the gate with no screen and prints JSON lines.

``kiosk run --headless --source SRC --db URL --project ID [--kiosk ID] [--config FILE]`` runs the whole
path — frame source → decode → dedupe → verify → sign-in service (``kiosk.gate``) — and prints one JSON
line per attempt: ``{"t", "source", "frame", "worker", "outcome", "reason", "message_zh",
"message_en", "latency_ms"}``. It ends at the end of a file or folder source; Ctrl-C and SIGTERM stop
it between frames, so every green sign-in printed is committed. ``--source -`` reads codes typed by a
keyboard-wedge scanner (one a line) from standard input, as bytes decoded line by line (a line that is
not UTF-8 is a CODE_INVALID attempt). Camera state changes go to standard error.

It never dies on one fault: a store that cannot record a scan (locked by another program past the busy
timeout, a full disk) prints a line with ``"outcome": "not_recorded"`` and the reason in Chinese and
English, and the loop goes on (the same code, shown again, is tried again). The kiosk's identity is
``--kiosk``, else ``[kiosk] id``, else the one kept in the store (made on the first run), with the
configured ``[kiosk] name``. With ``--shared URL`` (or ``[store] shared_url``) it runs the background
sync (``store.sync.rounds.SyncWorker``), as the officer screen does.

Without ``--headless`` it opens the officer screen (``kiosk.officer.app``). Both build what they run on
through ``kiosk.wiring`` (``open_kiosk``, ``open_gate``).
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
    from contextlib import AbstractContextManager

    from kiosk.camera.sources import FrameSource, StateCallback
    from kiosk.config import Config
    from kiosk.gate import Gate, GateEvent, NotRecorded
    from kiosk.wiring import Services

ORDER = 10
#: the headless run's last push before it exits: at most this long, and at most this many failed rounds
PUSH_WAIT_S = 20.0
PUSH_TRIES = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "run",
        help="运行签到终端 / run the kiosk (--headless: no screen, JSON lines)",
        description="运行签到终端；--headless：无界面，从视频源读码签到，每次签到输出一行 JSON。 / Runs the "
        "kiosk. With --headless: reads codes from --source and signs workers in to --project, one JSON line "
        "per attempt on standard output.",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="无界面：每次签到输出一行 JSON / no screen: one JSON line per attempt",
    )
    p.add_argument(
        "--source",
        metavar="SRC",
        help="视频源 / frame source: webcam index (0) or device (/dev/video0), rtsp/http URL, video file, "
        "folder of images, or - for a keyboard-wedge scanner on standard input (default: camera.source)",
    )
    add_db_arg(p)
    p.add_argument(
        "--project",
        metavar="ID|NAME",
        help="项目：编号（或其开头几位）或名称 / project: its id, the start of it, or its name "
        "(default: kiosk.project)",
    )
    p.add_argument("--kiosk", metavar="ID", help="本机编号 / this kiosk's id (default: kiosk.id)")
    p.add_argument(
        "--decoder",
        choices=("zxingcpp", "pyzbar", "opencv"),
        help="解码器 / decoder (default: camera.decoder)",
    )
    p.add_argument(
        "--no-photos",
        action="store_true",
        help="不保存现场照片 / keep no gate photos (default: kiosk.gate_photos)",
    )
    p.add_argument(
        "--shared",
        metavar="URL",
        help="与此共享数据库后台同步 / sync with this shared database in the background (default: [store] "
        "shared_url; none: local only)",
    )
    p.add_argument(
        "--push-wait",
        metavar="SECONDS",
        type=float,
        default=PUSH_WAIT_S,
        help=f"结束前最多等待上传的秒数 / at the end, wait at most this long for the last push (default: "
        f"{PUSH_WAIT_S:g}; 0: do not wait)",
    )
    add_config_arg(p)
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if not args.headless:
        return run_screen(args)
    return run_headless(args)


def run_screen(args: argparse.Namespace) -> int:
    """``kiosk run`` (not headless): the officer screen on the services of the config (``kiosk.wiring``)."""
    from kiosk.cli.common import config_of
    from kiosk.officer import app as officer
    from kiosk.widgets.preview import terminal_has_images
    from kiosk.wiring import open_kiosk

    cfg = config_of(args)
    with open_kiosk(
        cfg, shared=getattr(args, "shared", None), project=getattr(args, "project", None)
    ) as services:
        spec, w, h = cfg.camera.source, cfg.camera.width, cfg.camera.height

        def camera(on_state: StateCallback) -> FrameSource:
            """Runs in the camera's worker, so OpenCV loads there, after the screen is drawn (issue 29)."""
            from kiosk.camera.sources import open_source

            return open_source(spec, width=w, height=h, on_state=on_state)

        app = officer.build_app(
            services,
            camera if spec.strip() else None,  # "": scanner only
            image_preview=terminal_has_images(),
        )
        try:
            app.run()
        finally:
            app.camera_released.wait(10)  # the camera thread finishes its frame (and commit), then closes
    return 0


def _uuid(value: str, what: str) -> uuid.UUID:
    import uuid

    from store.errors import StoreError

    try:
        return uuid.UUID(value)
    except ValueError:
        raise StoreError(f"{what} 不是有效的编号：{value}", f"{what} is not a valid id: {value}") from None


def _state_reporter(state: Any, detail: str) -> None:
    print(f"[{state}] {detail}", file=sys.stderr, flush=True)


def open_gate(cfg: Config, args: argparse.Namespace, url: str | None) -> AbstractContextManager[Services]:
    """The headless loop's services, the gate among them (``kiosk.wiring.open_gate``; disposed on exit).
    ``url`` None: this kiosk's own store of the config (made and migrated on first use, as ``kiosk run``
    does); an explicit ``--db`` must exist and be migrated."""
    from kiosk import wiring
    from store.errors import StoreError

    project_arg = args.project or cfg.kiosk.project
    if not project_arg:
        raise StoreError("请用 --project 指定项目", "Name the project with --project")
    kiosk_arg = args.kiosk or cfg.kiosk.id
    if kiosk_arg:
        _uuid(kiosk_arg, "--kiosk")
    return wiring.open_gate(
        cfg,
        project=project_arg,
        url=url,
        kiosk=kiosk_arg,
        decoder=args.decoder,
        gate_photos=cfg.kiosk.gate_photos and not args.no_photos,
        shared=args.shared,
    )


def run_frames(
    gate: Gate,
    source: FrameSource,
    emit: Callable[[GateEvent], None],
    stop: threading.Event,
    failed: Callable[[NotRecorded], None] | None = None,
) -> int:
    """The headless loop: every frame of ``source`` through the gate until it ends or ``stop`` is set
    (checked between frames, so an attempt is never cut in half). A scan the store could not record goes
    to ``failed`` and the loop goes on. Returns the frames read."""
    from kiosk.gate import NotRecorded

    n = 0
    while not stop.is_set():
        frame = source.read()
        if frame is None:
            break
        n += 1
        try:
            events = gate.handle_frame(frame)
        except NotRecorded as exc:
            if failed is None:
                raise
            failed(exc)
            continue
        for ev in events:
            emit(ev)
    return n


def run_headless(args: argparse.Namespace) -> int:
    from kiosk.cli.common import config_of

    cfg = config_of(args)
    with open_gate(cfg, args, args.db or None) as services:
        return _headless_loop(services, args.source or cfg.camera.source, push_wait_s=args.push_wait)


def push_before_exit(services: Services, wait_s: float) -> tuple[bool, str]:
    """The last push of a headless run: sync rounds until one succeeds, ``PUSH_TRIES`` fail or ``wait_s``
    pass. Returns (everything pushed, what to print: what was pushed, or what is left and why)."""
    import time

    from store.sync.rounds import status
    from store.sync.state import pending_text

    worker = services.sync
    assert worker is not None
    deadline = time.monotonic() + max(0.0, wait_s)
    report = None
    try:
        for _ in range(PUSH_TRIES):
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                break
            report = worker.flush(left_s)
            if report is None or report.ok:
                break
    except KeyboardInterrupt:  # Ctrl-C again: stop waiting, say what is left
        report = None
    st = status(services.engine, clock_skew_s=services.config.policy.clock_skew_s)
    if report is not None and report.ok and st.pending_total == 0:
        return True, "已上传全部记录到共享数据库 / everything recorded is pushed to the shared database"
    why_zh = why_en = ""
    if report is not None and report.error is not None:
        why_zh, why_en = f"（{report.error.zh}）", f" ({report.error.en})"
    elif report is None:
        why_zh, why_en = f"（{wait_s:g} 秒内未完成）", f" (not finished within {wait_s:g} s)"
    if st.pending_total == 0:  # pushed, but the pull failed: nothing is left to push
        return (
            True,
            f"已上传全部记录，下载未完成{why_zh} / everything is pushed; the pull did not finish{why_en}",
        )
    return False, (
        f"未能上传完：还有 {st.pending_total} 条待上传（{pending_text(st.pending, 'zh')}）{why_zh}；"
        "它们保存在本机，下次同步时上传（kiosk sync --once，或再次运行 kiosk run）\n"
        f"could not push everything: {st.pending_total} rows left to upload ({pending_text(st.pending, 'en')})"
        f"{why_en}; they are kept on this kiosk and go with the next sync (kiosk sync --once, or the next "
        "kiosk run)"
    )


def _headless_loop(services: Services, spec: str, push_wait_s: float = PUSH_WAIT_S) -> int:
    """Every attempt of ``spec`` through the gate of ``services``, one JSON line each (module docstring)."""
    import signal
    import threading

    from kiosk.camera.sources import open_source, wedge_byte_lines
    from kiosk.gate import NotRecorded

    cfg, gate, worker = services.config, services.gate, services.sync
    assert gate is not None  # open_gate makes it
    if len(gate.verifier.trust) == 0:
        print(
            "警告：没有受信任的签发密钥，所有建设码都将被拒绝（kiosk keys …）\n"
            "warning: no trusted issuer keys: every code will be refused (see kiosk keys …)",
            file=sys.stderr,
        )
    tz = cfg.policy.timezone
    stop = threading.Event()
    counts: dict[str, int] = {}
    source: Any = None
    reading = threading.Event()
    pushing = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()
        if source is not None and hasattr(source, "stop"):
            source.stop()  # wakes a source waiting to reconnect
        if reading.is_set() or pushing.is_set():
            raise KeyboardInterrupt  # blocked reading the scanner's next line or waiting for the last push

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    import logging

    log = logging.getLogger("kiosk.headless")

    def emit(ev: Any) -> None:
        counts[ev.result.outcome.value] = counts.get(ev.result.outcome.value, 0) + 1
        r = ev.result  # outcome and reason only: no worker, no code
        log.info("attempt %s %s %.1f ms", r.outcome.value, r.reason.value if r.reason else "-", ev.latency_ms)
        print_json(ev.as_json(tz))

    def failed(exc: NotRecorded) -> None:
        """Not recorded: the line says why; the officer (or the caller) shows the code again."""
        counts["not_recorded"] = counts.get("not_recorded", 0) + 1
        print_json(exc.as_json())
        print(exc.both(), file=sys.stderr, flush=True)

    try:
        if worker is not None:
            worker.start()
        if spec == "-":
            lines = wedge_byte_lines(sys.stdin.buffer)
            while not stop.is_set():
                reading.set()
                try:
                    line = next(lines, None)
                finally:
                    reading.clear()
                if line is None:
                    break
                try:
                    ev = gate.handle_bytes(line)
                except NotRecorded as exc:
                    failed(exc)
                    continue
                if ev is not None:
                    emit(ev)
        else:
            source = open_source(
                spec, width=cfg.camera.width, height=cfg.camera.height, on_state=_state_reporter
            )
            run_frames(gate, source, emit, stop, failed)
    except KeyboardInterrupt:
        pass
    finally:
        if source is not None:
            source.close()
        if worker is not None and push_wait_s > 0:  # the rows of this run pushed before it exits
            pushing.set()
            try:
                pushed_all, said = push_before_exit(services, push_wait_s)
            except Exception as exc:  # the store itself failing: say so, stop as usual
                from store.sync.rounds import as_failure

                pushed_all, said = False, as_failure(exc).both()
            print(said, file=sys.stderr, flush=True)
            log.info("headless run: last push %s", "complete" if pushed_all else "left rows to upload")
        for s, h in old.items():
            signal.signal(s, h)
        if worker is not None:
            worker.stop()
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "0"
        print(f"结束 / stopped: {summary}", file=sys.stderr, flush=True)
        log.info("headless run ended: %s", summary)
    return 0
