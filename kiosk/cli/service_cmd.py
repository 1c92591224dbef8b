"""``kiosk service install|uninstall|status``: start the background sync on boot (systemd user unit, restarted
on failure) and the officer screen at the desktop login (XDG autostart); see kiosk/setup/service.py."""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.common import add_config_arg, config_of, print_json

ORDER = 80


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser("service", help="开机自动运行 / start on boot: background sync and the officer screen")
    ssub = p.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    i = ssub.add_parser("install", help="安装并启动 / install (systemd unit + desktop autostart) and start")
    add_config_arg(i)
    i.add_argument(
        "--no-start", action="store_true", help="只安装，不立即启动 / enable, but do not start now"
    )
    i.set_defaults(func=cmd_install)
    u = ssub.add_parser("uninstall", help="停止并移除 / stop and remove both")
    u.set_defaults(func=cmd_uninstall)
    st = ssub.add_parser("status", help="运行状态 / installed? running? the last sync")
    add_config_arg(st)
    st.set_defaults(func=cmd_status)


def cmd_install(args: argparse.Namespace) -> int:
    from kiosk.config import default_config_path
    from kiosk.setup.service import install
    from store.errors import StoreError

    cfg = config_of(args)
    path = cfg.path or (default_config_path() if args.config is None else None)
    if path is None or not path.exists():
        raise StoreError(
            "还没有配置文件：请先运行 kiosk setup", "There is no config file yet: run kiosk setup first"
        )
    report = install(path, start=not args.no_start)
    print_json(report.as_dict())
    if not report.systemd:
        print(
            "本机没有 systemd：已写入文件，请用系统的方式让 kiosk sync --watch 开机运行（见 README）\n"
            "No systemd here: the files are written; start `kiosk sync --watch` at boot the system's way (README)",
            file=sys.stderr,
        )
    if not report.ok():
        failed = [s for s in report.steps if s.get("required", True) and not s.get("ok", True)]
        print(f"安装未完成 / not installed: {failed[0]['run']}: {failed[0]['output']}", file=sys.stderr)
        return 2
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from kiosk.setup.service import uninstall

    print_json(uninstall().as_dict())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from kiosk.setup.service import state
    from store.db.engine import make_engine, sqlite_path
    from store.errors import StoreError
    from store.sync.state import status

    cfg = config_of(args)
    out = state()
    engine = make_engine(cfg.store.local())
    try:
        path = sqlite_path(engine)
        from pathlib import Path

        if path is None or Path(path).exists():
            try:
                out["sync"] = status(engine, clock_skew_s=cfg.policy.clock_skew_s).as_dict()
            except StoreError as exc:
                out["sync"] = {"error": exc.en, "error_zh": exc.zh}
    finally:
        engine.dispose()
    print_json(out)
    return 0 if out["unit_installed"] else 1
