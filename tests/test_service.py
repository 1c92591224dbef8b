"""``kiosk service``: the systemd unit and the autostart entry, installed and removed through systemctl (a
stand-in recording its calls), and recovery: the unit's command killed with SIGKILL in the middle of a
sync, started again, sends everything once, with nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from kiosk.cli import main
from kiosk.setup.service import desktop_path, exec_start, unit_path
from store.db.backup import integrity
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.models import SignInAttempt
from store.db.revision import take_revisions
from store.sync.state import status
from store.timeutil import utcnow

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def fake_tools(folder: Path, calls: Path) -> str:
    """systemctl and loginctl that record their arguments; `is-active` says active."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("systemctl", "loginctl"):
        script = folder / tool
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{tool} $*" >> "{calls}"\n'
            'case "$*" in *is-active*) echo active;; *is-enabled*) echo enabled;; esac\n'
            "exit 0\n",
            encoding="utf-8",
        )
        script.chmod(0o755)
    return f"{folder}:/usr/bin:/bin"


def write_config(home: Path, local: Path, shared: str) -> Path:
    cfg = home / "config.toml"
    cfg.write_text(
        f'[store]\nlocal_url = "sqlite:///{local}"\nshared_url = "{shared}"\n[sync]\ninterval_s = 1\n',
        encoding="utf-8",
    )
    return cfg


def test_install_status_uninstall_through_systemctl(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = home / "calls.txt"
    monkeypatch.setenv("PATH", fake_tools(home / "bin", calls))
    monkeypatch.setenv("USER", "gate")
    cfg = write_config(home, home / "kiosk.db", f"sqlite:///{home / 'shared.db'}")
    assert main(["service", "install", "--config", str(cfg)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["systemd"] is True
    assert calls.read_text().splitlines() == [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now kiosk-sync.service",
        "loginctl enable-linger gate",
    ]
    unit = unit_path().read_text(encoding="utf-8")
    assert unit_path() == home / "config" / "systemd" / "user" / "kiosk-sync.service"
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit
    argv = exec_start(unit_path())
    assert argv[1:] == ["-m", "kiosk", "sync", "--watch", "--config", str(cfg)] and Path(argv[0]).exists()
    desktop = desktop_path().read_text(encoding="utf-8")
    assert desktop_path() == home / "config" / "autostart" / "site-signin-kiosk.desktop"
    assert (
        "Terminal=true" in desktop
        and f"-m kiosk run --config {cfg}" in desktop
        and "Name=工地班前签到" in desktop
    )

    assert main(["service", "status", "--config", str(cfg)]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["unit_installed"] and st["autostart_installed"] and st["active"] == "active"
    assert st["enabled"] == "enabled" and "sync --watch" in st["command"]
    assert "sync" not in st  # no local store yet: nothing made by looking
    assert not (home / "kiosk.db").exists()

    calls.write_text("")
    assert main(["service", "uninstall"]) == 0
    assert calls.read_text().splitlines() == [
        "systemctl --user disable --now kiosk-sync.service",
        "systemctl --user daemon-reload",
    ]
    assert not unit_path().exists() and not desktop_path().exists()
    assert main(["service", "status", "--config", str(cfg)]) == 1


def test_install_without_systemd_or_config(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(home / "empty"))
    cfg = write_config(home, home / "kiosk.db", f"sqlite:///{home / 'shared.db'}")
    assert main(["service", "install", "--config", str(cfg)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["systemd"] is False and "No systemd here" in err
    assert unit_path().exists() and desktop_path().exists()
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)  # and no file in the (temporary) config folder
    assert main(["service", "install"]) == 2
    assert "kiosk setup" in capsys.readouterr().err


def pending_rows(engine: Engine, n: int) -> None:
    """``n`` attempts recorded offline (as the gate writes them: each with a revision of its own)."""
    now = utcnow()
    with engine.begin() as conn:
        last = take_revisions(conn, n)
        conn.execute(
            insert(SignInAttempt.__table__),
            [  # type: ignore[attr-defined]
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "updated_at": now,
                    "rev": last - n + 1 + i,
                    "at": now,
                    "way": "B",
                    "outcome": "refused",
                    "reason": "CODE_INVALID",
                }
                for i in range(n)
            ],
        )


def attempts(engine: Engine) -> tuple[int, int]:
    t = SignInAttempt.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(t)).scalar_one()),
            int(conn.execute(select(func.count(func.distinct(t.c.id)))).scalar_one()),
        )


def test_killed_mid_sync_and_restarted_loses_nothing(
    home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 16000  # eight push batches
    local_path = home / "kiosk.db"
    local = make_engine(f"sqlite:///{local_path}")
    upgrade_engine(local)
    pending_rows(local, total)
    shared = make_engine(pg_url)
    monkeypatch.setenv("PATH", fake_tools(home / "bin", home / "calls.txt"))
    cfg = write_config(home, local_path, pg_url)
    assert main(["service", "install", "--config", str(cfg), "--no-start"]) == 0
    argv = exec_start(unit_path())  # what systemd runs, and runs again after a failure
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        seen = 0
        while time.monotonic() < deadline:
            seen = attempts(shared)[0]
            if 0 < seen < total:
                break
            time.sleep(0.02)
        assert 0 < seen < total, f"never caught it mid-sync ({seen} of {total})"
        proc.send_signal(signal.SIGKILL)  # a crash (or the power cut) in the middle of a push
        assert proc.wait(10) == -signal.SIGKILL
        assert integrity(local_path) == "ok"
        assert attempts(local) == (total, total)
        cut_at = attempts(shared)[0]
        assert cut_at < total and status(local).pending_total > 0

        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 120
        # the round records its success after its pull, a moment after the last push batch
        while time.monotonic() < deadline and (
            status(local).pending_total or status(local).state != "synced"
        ):
            time.sleep(0.2)
        assert status(local).pending_total == 0
        assert attempts(shared) == (total, total)  # everything, once
        assert status(local).state == "synced"
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert proc.stdout is not None and '"ok": true' in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        local.dispose()
        shared.dispose()
