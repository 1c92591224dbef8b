"""The operational log: a rotating file in the log folder, and nothing personal in it — nor in what the
commands print. The demo runs (its screen headless), then a headless gate run, a phone sign-in (way A)
and a failing sync run as processes; every log file, standard output and standard error is searched for
the synthetic people's ID numbers, card numbers, codes, names and positions."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, select
from support.async_tests import run_async
from support.waiting import until

from kiosk.camera.simulate import write_folder
from kiosk.demo import make_demo
from kiosk.logs import log_dir, redact, setup_logging, stop_logging
from store.codes.tokens import issue_code
from store.db.models import BankCard, Officer, Worker
from store.people.seed import ELIGIBLE
from store.reasons import Role

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[1]
#: the phone's position in the way-A run (inside the demo project's range or not: it must not show)
LAT, LON = "31.2345678", "121.4765432"


def personal_values(db: Path) -> set[str]:
    from store.db.engine import make_engine

    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            workers = list(s.exec(select(Worker)))
            cards = list(s.exec(select(BankCard)))
            officers = list(s.exec(select(Officer)))
    finally:
        engine.dispose()
    values = {w.id_number for w in workers if w.id_number} | {w.name for w in workers}
    values |= {c.card_number for c in cards if c.card_number} | {o.name for o in officers}
    values |= {LAT[:7], LON[:8]}
    assert len(values) > 100
    return values


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[int, str, str]:
    p = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        cwd=ROOT,
    )
    return p.returncode, p.stdout, p.stderr


def test_redact_is_the_safety_net() -> None:
    line = "x SJM1:ABCDEF234567 310104198001011234 6222020200112233445 postgresql://gate:pw@host/db 07:02"
    out = redact(line)
    assert "SJM1:ABC" not in out and "310104198001011234" not in out and "6222020200112233445" not in out
    assert "pw@" not in out and "gate:***@host" in out and "07:02" in out


@run_async
async def test_nothing_personal_in_any_log_or_output(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.cli.demo_cmd import demo_app

    logs = tmp_path / "logs"
    monkeypatch.setenv("KIOSK_LOG_DIR", str(logs))
    env = {**os.environ, "KIOSK_LOG_DIR": str(logs)}

    # 1. the demo, its screen headless, for a few seconds at speed 20: unlock, sign-ins, refusals
    stop_logging()
    assert setup_logging() == logs / "kiosk.log" == log_dir() / "kiosk.log"
    demo_folder = tmp_path / "demo"
    demo_folder.mkdir()
    app = demo_app(demo_folder, speed=20, workers=60)
    async with app.run_test(size=(100, 30)) as pilot:
        while app.camera_state != "connected":
            await pilot.pause(0.05)
        await until(  # until a few people are through
            pilot,
            lambda: not app.locked and app.counts.signed_in + app.counts.refused >= 4,
            timeout=120,
            what="four people through the demo",
        )
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
    app.camera_released.wait(10)
    app.engine.dispose()
    stop_logging()
    values = personal_values(demo_folder / "demo.db")

    # 2. a headless run of the gate over camera frames of real codes, as a process
    demo = make_demo(tmp_path, workers=60)  # tmp_path/demo.db
    demo.engine.dispose()
    values |= personal_values(tmp_path / "demo.db")
    eligible = demo.examples(ELIGIBLE)
    tokens = [demo.code(w) for w in eligible[:3]] + [demo.code(uuid.uuid4())]
    frames = tmp_path / "frames"
    write_folder([*tokens, None], frames)
    db = str(tmp_path / "demo.db")
    code, out1, err1 = run(
        ["run", "--headless", "--source", str(frames), "--db", db, "--project", str(demo.project_id)], env
    )
    assert code == 0 and out1.count("\n") >= 3, err1
    assert '"signed_in"' in out1
    # the scanner: codes typed on standard input
    code, out2, err2 = run(
        ["run", "--headless", "--source", "-", "--db", db, "--project", str(demo.project_id)],
        env,
        stdin="\n".join([demo.code(eligible[5]), "garbage 310104198001011234"]) + "\n",
    )
    assert code == 0, err2

    # 3. a phone sign-in (way A) with its position
    officer = issue_code(
        demo.key, role=Role.OFFICER, subject=demo.officer(), project=demo.project_id, validity_s=120
    )
    worker_code = demo.code(eligible[6])
    tokens += [officer, worker_code, demo.code(eligible[5])]
    code, out3, err3 = run(
        [
            "phone",
            "signin",
            "--worker-code",
            worker_code,
            "--scan",
            officer,
            "--at",
            f"{LAT},{LON}",
            "--accuracy",
            "15",
            "--db",
            db,
        ],
        env,
    )
    assert code in (0, 1), err3

    # 4. a sync that fails, with a password in the shared database's address
    code, out4, err4 = run(
        [
            "sync",
            "--once",
            "--local",
            db,
            "--shared",
            "postgresql://gate1:s3cretpw@127.0.0.1:1/site",
            "--json",
        ],
        env,
    )
    assert code == 2 and "s3cretpw" not in out4 + err4

    captured = capfd.readouterr()
    files = sorted(logs.glob("kiosk.log*"))
    assert files and oct(logs.stat().st_mode & 0o777) == "0o700"
    log_text = "".join(f.read_text(encoding="utf-8") for f in files)
    # the log says what happened
    for expected in (
        "officer screen up (demo=True",
        "event unlock",
        "attempt signed_in",
        "kiosk run: start",
        "headless run ended",
        "kiosk phone signin: start",
        "sync failed",
        "kiosk sync: exit 2",
    ):
        assert expected in log_text, expected
    everything = {
        "log": log_text,
        "demo stdout": captured.out,
        "demo stderr": captured.err,
        "headless": out1 + err1,
        "scanner": out2 + err2,
        "phone": out3 + err3,
        "sync": out4 + err4,
    }
    banned = values | set(tokens) | {"SJM1:", "s3cretpw", "310104198001011234"}
    for where, text in everything.items():
        leaked = sorted(v for v in banned if v and v in text)
        assert not leaked, (where, leaked[:5])
