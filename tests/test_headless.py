"""``kiosk run --headless``: JSON lines for signed-in / already / refused, clean stops, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.headless import fill_disk, start_headless

from kiosk.camera.simulate import write_folder
from kiosk.cli import main
from kiosk.qr_terminal import save_png
from store.codes.keys import IssuerPrivateKey, register_public_key, write_trust_file
from store.codes.tokens import issue_code
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.models import Attendance, GatePhoto, SignInAttempt
from store.people.seed import seed_demo
from store.reasons import Role

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("t", "source", "frame", "worker", "outcome", "reason", "message_zh", "message_en", "latency_ms")
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def seeded(url: str, *, register: bool = True) -> tuple[Engine, dict[str, object], IssuerPrivateKey]:
    engine = make_engine(url)
    summary = seed_demo(engine, workers=60, projects=1, examples=10, seed=9)
    key = IssuerPrivateKey.generate()
    if register:
        register_public_key(engine, key.public_raw, not_before=LONG_AGO)
    return engine, summary, key


def code(key: IssuerPrivateKey, worker: str, seconds_ago: int = 0) -> str:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return issue_code(key, role=Role.WORKER, subject=uuid.UUID(worker), at=at)


def lines_of(out: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_headless_prints_one_line_per_attempt(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    a, b, no_card = ex["eligible"][0], ex["eligible"][1], ex["NO_BANK_CARD"][0]
    first_a = code(key, a, seconds_ago=5)
    frames = [
        first_a,
        first_a,
        code(key, b),
        "https://example.com/not-ours",
        None,
        code(key, no_card),
        code(key, a),
    ]  # a fresh code of a worker already in: "already"
    folder = tmp_path / "frames"
    write_folder(frames, folder, dark_every=3)
    project = str(summary["examples_project"])
    status = main(["run", "--headless", "--source", str(folder), "--db", sqlite_url, "--project", project])
    out = capsys.readouterr()
    assert status == 0
    lines = lines_of(out.out)
    assert all(tuple(x) == KEYS for x in lines)
    got = [(x["frame"], x["worker"], x["outcome"], x["reason"]) for x in lines]
    assert got == [
        (0, a, "signed_in", None),  # frame 1 shows the same code: no second attempt
        (2, b, "signed_in", None),
        (3, None, "refused", "CODE_INVALID"),
        (5, no_card, "refused", "NO_BANK_CARD"),
        (6, a, "already", None),
    ]
    assert lines[2]["message_en"] == "Not a valid personal construction code"
    assert str(lines[4]["message_zh"]).startswith("今日已签到")
    assert all(x["source"] == str(folder) for x in lines)
    assert all(isinstance(x["latency_ms"], float) and x["latency_ms"] > 0 for x in lines)
    assert all(datetime.fromisoformat(str(x["t"])).tzinfo is not None for x in lines)
    assert "stopped" in out.err and "Traceback" not in out.err
    with Session(engine) as s:
        assert len(list(s.exec(select(SignInAttempt)))) == 5
        assert len(list(s.exec(select(Attendance)))) == 2
        assert len(list(s.exec(select(GatePhoto)))) == 5  # one photo per attempt by default
    engine.dispose()


def test_headless_keyboard_wedge_on_stdin_and_photos_off_by_config(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    token = code(key, ex["eligible"][2])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{token}\n{token}\n\ngarbage\n".encode())))
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text("[kiosk]\ngate_photos = false\n", encoding="utf-8")
    status = main(
        [
            "run",
            "--headless",
            "--source",
            "-",
            "--db",
            sqlite_url,
            "--config",
            str(cfg),
            "--project",
            str(summary["examples_project"]),
        ]
    )
    assert status == 0
    lines = lines_of(capsys.readouterr().out)
    assert [(x["source"], x["frame"], x["outcome"]) for x in lines] == [
        ("keyboard", 0, "signed_in"),
        ("keyboard", 1, "refused"),
    ]
    with Session(engine) as s:
        assert list(s.exec(select(GatePhoto))) == []
    engine.dispose()


def test_headless_trusts_the_config_trust_file(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, summary, key = seeded(sqlite_url, register=False)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    other = make_engine(f"sqlite:///{tmp_path / 'issuer.db'}")
    upgrade_engine(other)
    register_public_key(other, key.public_raw, not_before=LONG_AGO)
    write_trust_file(other, tmp_path / "trust.json")
    other.dispose()
    folder = tmp_path / "frames"
    write_folder([code(key, ex["eligible"][3])], folder, size=(640, 480))
    args = [
        "run",
        "--headless",
        "--source",
        str(folder),
        "--db",
        sqlite_url,
        "--project",
        str(summary["examples_project"]),
    ]
    assert main(args) == 0
    first = lines_of(capsys.readouterr().out)
    assert [x["reason"] for x in first] == ["CODE_UNKNOWN_KEY"]  # the database alone does not know the key
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[codes]\ntrust_file = "{tmp_path / "trust.json"}"\n', encoding="utf-8")
    assert main([*args, "--config", str(cfg)]) == 0
    assert [x["outcome"] for x in lines_of(capsys.readouterr().out)] == ["signed_in"]
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "not-a-uuid"], "Unknown project: not-a-uuid"),  # nor a name, nor the start of an id
        (["--project", str(uuid.UUID(int=1))], "Unknown project"),
        ([], "Name the project with --project"),
        (["--project", str(uuid.UUID(int=1)), "--source", "/dev/video93"], "/dev/video93"),
    ],
)
def test_headless_bad_input_is_a_clear_error(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    engine, summary, _ = seeded(sqlite_url)
    engine.dispose()
    if "/dev/video93" in args:
        args = ["--project", str(summary["examples_project"]), "--source", "/dev/video93"]
    status = main(["run", "--headless", "--db", sqlite_url, "--source", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_with_every_printed_sign_in_committed(
    sqlite_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    folder = tmp_path / "frames"
    tokens = [code(key, w) for w in ex["eligible"][:4]]
    write_folder([*tokens, None], folder, size=(640, 480))
    empty = folder / "000004.jpg"
    for i in range(5, 3000):  # a long tail of empty gate frames (hard links: no disk, no CPU to make)
        os.link(empty, folder / f"{i:06d}.jpg")
    proc = start_headless(sqlite_url, str(summary["examples_project"]), source=str(folder), stdin=None)
    assert proc.stdout is not None
    printed = [proc.stdout.readline()]
    proc.send_signal(sig)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err
    lines = lines_of("".join(printed) + rest)
    assert 1 <= len(lines) <= 4
    with Session(engine) as s:
        signed = {str(a.worker_id) for a in s.exec(select(Attendance))}
        n_attempts = len(list(s.exec(select(SignInAttempt))))
    assert {x["worker"] for x in lines if x["outcome"] == "signed_in"} == signed
    assert n_attempts == len(lines)
    engine.dispose()


def test_the_headless_path_needs_no_ui_and_the_commands_import_light() -> None:
    """The gate and the camera never import Textual; ``kiosk``'s command modules load no OpenCV."""
    code = (
        "import sys, importlib\n"
        "import kiosk.cli.run_cmd, kiosk.cli.decode_cmd\n"
        "heavy = sorted(m for m in ('cv2', 'zxingcpp', 'numpy', 'sqlalchemy') if m in sys.modules)\n"
        "for m in ('kiosk.gate', 'kiosk.camera.sources', 'kiosk.camera.decoders', 'kiosk.camera.dedupe',\n"
        "          'kiosk.camera.simulate', 'kiosk.camera.photo'): importlib.import_module(m)\n"
        "ui = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(heavy) + '|' + ','.join(ui))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "|"


def test_headless_scanner_reads_bytes_and_a_bad_line_is_a_code_invalid_attempt(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invalid UTF-8 between two good codes: the codes before and after it are signed in, the bad line is
    a refused CODE_INVALID attempt (recorded), and nothing crashes."""
    import io

    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    first, second = code(key, ex["eligible"][4]), code(key, ex["eligible"][5])
    raw = first.encode() + b"\n\xff\xfe\xc3(bad\n" + second.encode() + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict"))
    assert (
        main(
            [
                "run",
                "--headless",
                "--source",
                "-",
                "--db",
                sqlite_url,
                "--project",
                str(summary["examples_project"]),
            ]
        )
        == 0
    )
    lines = lines_of(capsys.readouterr().out)
    assert [(x["outcome"], x["reason"]) for x in lines] == [
        ("signed_in", None),
        ("refused", "CODE_INVALID"),
        ("signed_in", None),
    ]
    with Session(engine) as s:
        assert len(list(s.exec(select(SignInAttempt)))) == 3
    engine.dispose()


def test_headless_keeps_running_when_the_store_is_locked_and_retries(sqlite_url: str) -> None:
    """Another program holds the store's write lock past the busy timeout: that scan prints
    "not_recorded" with the reason, the loop goes on, and the same code shown again is signed in."""
    import sqlite3

    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    token = code(key, ex["eligible"][6])
    proc = start_headless(sqlite_url, str(summary["examples_project"]), "--no-photos")
    assert proc.stdin is not None and proc.stdout is not None
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        proc.stdin.write("garbage-before\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["reason"] == "CODE_INVALID"
        holder.execute("BEGIN EXCLUSIVE")
        proc.stdin.write(token + "\n")
        proc.stdin.flush()
        locked = json.loads(proc.stdout.readline())  # after the 5 s busy timeout
        assert locked["outcome"] == "not_recorded"
        assert "未记录" in str(locked["message_zh"]) and "Not recorded" in str(locked["message_en"])
        assert "locked" in str(locked["message_en"])
        holder.execute("ROLLBACK")
        proc.stdin.write(token + "\n")  # shown again at once: not swallowed by the de-duplication
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["outcome"] == "signed_in"
        proc.stdin.close()
        proc.wait(timeout=60)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        holder.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
    with Session(engine) as s:
        assert len(list(s.exec(select(Attendance)))) == 1
        assert len(list(s.exec(select(SignInAttempt)))) == 2
    engine.dispose()


def test_headless_without_kiosk_uses_the_configured_identity(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --kiosk: the kiosk made (and kept) in the store, named by [kiosk] name; amber names the gate."""
    import io

    from store.db.models import Kiosk

    # A seeded store and one eligible worker's code, as each headless test starts: each names its worker.
    engine, summary, key = seeded(sqlite_url)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\nname = "3号门"\n', encoding="utf-8")
    token = code(key, ex["eligible"][7])
    args = [
        "run",
        "--headless",
        "--source",
        "-",
        "--db",
        sqlite_url,
        "--config",
        str(cfg),
        "--project",
        str(summary["examples_project"]),
    ]
    for _ in range(2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{token}\n".encode())))
        assert main(args) == 0
    second = lines_of(capsys.readouterr().out)[-1]
    assert second["outcome"] == "already" and "3号门" in str(second["message_zh"])
    with Session(engine) as s:
        kiosks = {a.kiosk_id for a in s.exec(select(SignInAttempt))}
        assert len(kiosks) == 1 and None not in kiosks
        gate = s.get(Kiosk, kiosks.pop())
        assert gate is not None and gate.name == "3号门"
    engine.dispose()


def test_headless_keeps_running_on_a_full_disk_and_retries(tmp_path: Path) -> None:
    """The store's disk fills up (a tiny tmpfs): that scan is "not_recorded: the disk is full", the loop
    goes on, and once there is room again the same code is signed in."""
    import shutil

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr!r}")
    try:
        url = f"sqlite:///{disk / 'kiosk.db'}"
        fresh = make_engine(url)
        upgrade_engine(fresh)
        fresh.dispose()
        engine, summary, key = seeded(url)
        ex = summary["examples"]
        assert isinstance(ex, dict)
        token = code(key, ex["eligible"][8])
        proc = start_headless(url, str(summary["examples_project"]), "--no-photos")
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write("garbage-first\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["reason"] == "CODE_INVALID"
        filler = disk / "filler"
        fill_disk(filler)
        proc.stdin.write(token + "\n")
        proc.stdin.flush()
        full = json.loads(proc.stdout.readline())
        assert full["outcome"] == "not_recorded" and "disk is full" in str(full["message_en"]), full
        filler.unlink()
        proc.stdin.write(token + "\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["outcome"] == "signed_in"
        proc.stdin.close()
        proc.wait(timeout=60)
        err = proc.stderr.read()
        assert proc.returncode == 0 and "Traceback" not in err, err
        with Session(engine) as s:
            assert len(list(s.exec(select(Attendance)))) == 1
        engine.dispose()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_headless_project_by_name_or_the_start_of_its_id(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, summary, key = seeded(sqlite_url)
    pid = str(summary["examples_project"])
    project = next(p for p in summary["projects"] if p["id"] == pid)  # type: ignore[attr-defined]
    worker = summary["examples"]["eligible"][0]  # type: ignore[index]
    engine.dispose()
    folder = tmp_path / "frames"
    folder.mkdir()
    save_png(code(key, worker), folder / "a.png", scale=6)
    for name in (project["name"], project["id"][:8]):  # type: ignore[index]
        capsys.readouterr()
        assert (
            main(
                [
                    "run",
                    "--headless",
                    "--db",
                    sqlite_url,
                    "--source",
                    str(folder),
                    "--project",
                    name,
                    "--no-photos",
                ]
            )
            == 0
        )
        out = lines_of(capsys.readouterr().out)
        assert [x["outcome"] for x in out][:1] in (["signed_in"], ["already"])


def _kiosk_and_shared(tmp_path: Path) -> tuple[str, str, dict[str, object], IssuerPrivateKey]:
    """A shared database (seeded, the key registered) and a kiosk store that is a copy of it."""
    import sqlite3

    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(shared)
    upgrade_engine(engine)
    engine.dispose()
    engine, summary, key = seeded(shared)
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "shared.db")
    conn.execute("VACUUM INTO ?", (str(tmp_path / "kiosk.db"),))
    conn.close()
    return f"sqlite:///{tmp_path / 'kiosk.db'}", shared, summary, key


def test_headless_over_a_folder_pushes_its_rows_before_it_exits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, shared, summary, key = _kiosk_and_shared(tmp_path)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    folder = tmp_path / "frames"
    write_folder([code(key, ex["eligible"][0]), None, code(key, ex["eligible"][1])], folder)
    project = str(summary["examples_project"])
    argv = ["run", "--headless", "--source", str(folder), "--db", local, "--project", project]
    status = main([*argv, "--shared", shared, "--push-wait", "60"])
    out = capsys.readouterr()
    assert status == 0 and [x["outcome"] for x in lines_of(out.out)] == ["signed_in", "signed_in"]
    assert "已上传全部记录" in out.err and "everything recorded is pushed" in out.err
    engine = make_engine(shared)
    with Session(engine) as s:  # the run's rows are in the shared database once it has exited
        assert len(list(s.exec(select(Attendance)))) == 2
        assert len(list(s.exec(select(SignInAttempt)))) == 2
    engine.dispose()


def test_headless_says_what_is_left_when_the_last_push_cannot_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, _shared, summary, key = _kiosk_and_shared(tmp_path)
    ex = summary["examples"]
    assert isinstance(ex, dict)
    folder = tmp_path / "frames"
    write_folder([code(key, ex["eligible"][0]), code(key, ex["eligible"][1])], folder)
    gone = f"sqlite:///{tmp_path / 'no-such-dir' / 'shared.db'}"
    project = str(summary["examples_project"])
    argv = ["run", "--headless", "--source", str(folder), "--db", local, "--project", project]
    status = main([*argv, "--shared", gone, "--push-wait", "60"])
    out = capsys.readouterr()
    assert status == 0 and len(lines_of(out.out)) == 2  # the sign-ins are kept on the kiosk
    # the counts (the two sign-ins, their attempts and photos, the failed sync's event) and the reason
    assert (
        "未能上传完：还有 7 条待上传（考勤 2、签到记录 2、现场照片 2、设备事件 1）（数据库文件所在的文件夹不存在"
        in out.err
    )
    assert (
        "could not push everything: 7 rows left to upload (2 attendance days, 2 sign-in attempts" in out.err
    )
    assert "kiosk sync --once" in out.err and "Traceback" not in out.err
