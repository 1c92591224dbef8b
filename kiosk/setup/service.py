"""Start on boot and recovery: the background sync as a systemd user unit, the officer screen at the
desktop login (an XDG autostart entry).

``install(config)`` writes

- ``~/.config/systemd/user/kiosk-sync.service``: ``kiosk sync --watch --config FILE`` with
  ``Restart=on-failure`` (a crash, a kill, an exception: started again 5 s later) — after a power cut
  systemd starts it again at boot (with lingering on, ``loginctl enable-linger``) or at login;
- ``~/.config/autostart/site-signin-kiosk.desktop``: the officer screen (``kiosk run``) in a terminal
  when the desktop session starts (``Terminal=true``: the desktop's own terminal);

then, where systemd is there, ``systemctl --user daemon-reload``, ``enable --now`` and
``loginctl enable-linger``. Both run the same Python and the same config they were installed with
(absolute paths), so a virtual environment needs no activation. ``uninstall`` undoes it, ``status``
reports the files, the unit's state and the last sync.

Nothing is lost by a crash: every sign-in is committed to the local store before it is shown
(``synchronous=FULL``), sync pushes in batches each committed before the cursor moves (a cut push
resends its batch; pushes are idempotent), and the restarted process opens the same store.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

UNIT = "kiosk-sync.service"
DESKTOP = "site-signin-kiosk.desktop"
#: environment passed on to the unit when set at install time
PASSED_ENV = ("KIOSK_DATA_DIR", "KIOSK_LOG_DIR")

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def unit_path() -> Path:
    return _config_home() / "systemd" / "user" / UNIT


def desktop_path() -> Path:
    return _config_home() / "autostart" / DESKTOP


def kiosk_argv() -> list[str]:
    """How to run this kiosk program: this Python, its module (no PATH, no activation needed)."""
    return [sys.executable, "-m", "kiosk"]


def unit_text(config: Path) -> str:
    cmd = shlex.join([*kiosk_argv(), "sync", "--watch", "--config", str(config)])
    env = "".join(f"Environment={k}={shlex.quote(os.environ[k])}\n" for k in PASSED_ENV if os.environ.get(k))
    return (
        "[Unit]\n"
        "Description=Site sign-in kiosk: background sync with the shared database (工地签到终端后台同步)\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n"
        "StartLimitIntervalSec=0\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={cmd}\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        f"{env}"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def desktop_text(config: Path) -> str:
    cmd = shlex.join([*kiosk_argv(), "run", "--config", str(config)])
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=工地班前签到\n"
        "Name[en]=Site sign-in kiosk\n"
        "Comment=签到员屏幕（班前签到） / the officer's sign-in screen\n"
        f"Exec={cmd}\n"
        "Terminal=true\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
    )


def exec_start(unit_file: Path) -> list[str]:
    """The command line of an installed unit (what systemd runs, and restarts)."""
    for line in unit_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.split("=", 1)[1])
    raise ValueError(f"no ExecStart in {unit_file}")


@dataclass(slots=True)
class ServiceReport:
    unit: Path
    desktop: Path
    systemd: bool
    steps: list[dict[str, object]] = field(default_factory=list)

    def ok(self) -> bool:
        return all(s.get("ok", True) for s in self.steps if s.get("required", True))

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": str(self.unit),
            "autostart": str(self.desktop),
            "systemd": self.systemd,
            "steps": self.steps,
        }


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


def _systemd(runner: Runner | None) -> Runner | None:
    if runner is not None:
        return runner
    return _run if shutil.which("systemctl") else None


def _step(report: ServiceReport, runner: Runner, argv: list[str], *, required: bool = True) -> None:
    try:
        p = runner(argv)
        ok, out = p.returncode == 0, (p.stdout or p.stderr or "").strip()
    except (OSError, subprocess.SubprocessError) as exc:
        ok, out = False, str(exc)
    report.steps.append({"run": shlex.join(argv), "ok": ok, "output": out[:300], "required": required})


def install(config: Path, *, runner: Runner | None = None, start: bool = True) -> ServiceReport:
    config = Path(config).resolve()
    unit, desk = unit_path(), desktop_path()
    for path, text in ((unit, unit_text(config)), (desk, desktop_text(config))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o644)
    run = _systemd(runner)
    report = ServiceReport(unit, desk, run is not None)
    report.steps.append({"wrote": str(unit)})
    report.steps.append({"wrote": str(desk)})
    if run is not None:
        _step(report, run, ["systemctl", "--user", "daemon-reload"])
        _step(report, run, ["systemctl", "--user", "enable", *(["--now"] if start else []), UNIT])
        user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
        if user and (shutil.which("loginctl") or runner is not None):
            # start at boot, not only at login (may need the administrator's consent: not required)
            _step(report, run, ["loginctl", "enable-linger", user], required=False)
    return report


def uninstall(*, runner: Runner | None = None) -> ServiceReport:
    unit, desk = unit_path(), desktop_path()
    run = _systemd(runner)
    report = ServiceReport(unit, desk, run is not None)
    if run is not None and unit.exists():
        _step(report, run, ["systemctl", "--user", "disable", "--now", UNIT], required=False)
    for path in (unit, desk):
        if path.exists():
            path.unlink()
            report.steps.append({"removed": str(path)})
    if run is not None:
        _step(report, run, ["systemctl", "--user", "daemon-reload"], required=False)
    return report


def state(*, runner: Runner | None = None) -> dict[str, object]:
    unit, desk = unit_path(), desktop_path()
    run = _systemd(runner)
    out: dict[str, object] = {
        "unit": str(unit),
        "unit_installed": unit.exists(),
        "autostart": str(desk),
        "autostart_installed": desk.exists(),
        "systemd": run is not None,
    }
    if unit.exists():
        out["command"] = shlex.join(exec_start(unit))
    if run is not None:
        for what in ("is-active", "is-enabled"):
            try:
                p = run(["systemctl", "--user", what, UNIT])
                out[what.replace("is-", "")] = (p.stdout or "").strip() or "unknown"
            except (OSError, subprocess.SubprocessError):
                out[what.replace("is-", "")] = "unknown"
    return out
