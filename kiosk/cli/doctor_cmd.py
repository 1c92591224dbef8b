"""``kiosk doctor [--json] [--no-camera]``: check everything a support call would ask (kiosk/setup/doctor.py).

Prints each check as ✓ or ✗ in Chinese and English with what to do; ``--json`` one JSON object for
scripts. Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_config_arg, print_json

ORDER = 85


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor", help="检查本机设置与运行状态 / check this kiosk: config, stores, clock, camera, keys, disk"
    )
    p.add_argument("--json", action="store_true", help="one JSON object for scripts")
    p.add_argument(
        "--no-camera", action="store_true", help="不检查摄像头 / skip the camera (the kiosk is using it)"
    )
    add_config_arg(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from kiosk.setup.doctor import run_checks

    checks = run_checks(args.config, camera=not args.no_camera)
    ok = all(c.ok for c in checks)
    if args.json:
        print_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            for line in c.lines():
                print(line)
        print("全部正常 | all good" if ok else f"{sum(not c.ok for c in checks)} 项需要处理 | need attention")
    return 0 if ok else 1
