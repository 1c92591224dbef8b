"""``kiosk keys …`` and ``kiosk code issue|verify``: what a user types, what comes out, exit status."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk.cli import main

AT = "2026-03-02T07:00:00+08:00"
LATER = "2026-03-02T07:01:30+08:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def keyed(capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path) -> tuple[str, Path, str]:
    """A database trusting one new key: (db url, key dir, kid)."""
    code, out, err = run(
        capsys,
        "keys",
        "new",
        "--out",
        str(tmp_path / "k"),
        "--db",
        sqlite_url,
        "--not-before",
        "2026-01-01T00:00:00Z",
    )
    assert code == 0, err
    kid = out.strip()
    assert len(kid) == 8 and "issuer.key" in err
    return sqlite_url, tmp_path / "k", kid


def test_keys_new_issue_verify(
    capsys: pytest.CaptureFixture[str], keyed: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, kdir, kid = keyed
    assert stat.S_IMODE((kdir / "issuer.key").stat().st_mode) == 0o600
    worker = str(uuid.uuid4())
    png = tmp_path / "code.png"
    code, out, _ = run(
        capsys,
        "code",
        "issue",
        "--worker",
        worker,
        "--key",
        str(kdir / "issuer.key"),
        "--at",
        AT,
        "--png",
        str(png),
    )
    token = out.strip()
    assert code == 0 and token.startswith("SJM1:") and len(out.splitlines()) == 1
    with Image.open(png) as img:
        found = zxingcpp.read_barcodes(
            img,
            formats=zxingcpp.BarcodeFormat.QRCode,
            text_mode=zxingcpp.TextMode.Plain,  # type: ignore[arg-type]
        )
        assert [r.text for r in found] == [token]

    code, out, _ = run(capsys, "code", "verify", token, "--db", url, "--at", LATER)
    assert code == 0
    assert json.loads(out) == {
        "ok": True,
        "role": "worker",
        "subject": worker,
        "issued_at": "2026-03-01T23:00:00+00:00",
        "expires_at": "2026-03-01T23:02:00+00:00",
        "kid": kid,
    }
    code, out, err = run(capsys, "code", "verify", token, "--db", url)  # now: long expired
    assert code == 1 and json.loads(out) == {"ok": False, "reason": "CODE_EXPIRED"}
    assert "已过期" in err and "expired" in err
    code, out, _ = run(capsys, "code", "verify", token, "--db", url, "--at", LATER, "--role", "officer")
    assert code == 1 and json.loads(out)["reason"] == "CODE_WRONG_ROLE"
    code, out, _ = run(capsys, "code", "verify", "https://example.com/", "--db", url)
    assert code == 1 and json.loads(out) == {"ok": False, "reason": "CODE_INVALID"}
    assert token not in out


def test_officer_code_and_terminal_drawing(
    capsys: pytest.CaptureFixture[str], keyed: tuple[str, Path, str]
) -> None:
    url, kdir, _ = keyed
    officer, project = str(uuid.uuid4()), str(uuid.uuid4())
    code, out, err = run(
        capsys,
        "code",
        "issue",
        "--officer",
        officer,
        "--project",
        project,
        "--key",
        str(kdir / "issuer.key"),
        "--at",
        AT,
        "--validity",
        "300",
        "--terminal",
    )
    assert code == 0 and "█" in err and "█" not in out
    code, out, _ = run(capsys, "code", "verify", out.strip(), "--db", url, "--at", LATER, "--role", "officer")
    got = json.loads(out)
    assert code == 0 and (got["role"], got["subject"], got["project"]) == ("officer", officer, project)
    assert got["expires_at"] == "2026-03-01T23:05:00+00:00"


def test_trust_file_revoke_and_rotation(
    capsys: pytest.CaptureFixture[str], keyed: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, kdir, kid = keyed
    code, out, _ = run(
        capsys, "code", "issue", "--worker", str(uuid.uuid4()), "--key", str(kdir / "issuer.key"), "--at", AT
    )
    token = out.strip()
    trust = tmp_path / "trust.json"
    assert run(capsys, "keys", "export", "--db", url, "--out", str(trust))[0] == 0
    assert "PRIVATE" not in trust.read_text()
    code, out, _ = run(capsys, "code", "verify", token, "--trust", str(trust), "--at", LATER)
    assert code == 0 and json.loads(out)["kid"] == kid

    # a kiosk database that never saw the key: unknown until the trust file is added
    other = tmp_path / "kiosk.db"
    assert run(capsys, "db", "upgrade", "--db", str(other))[0] == 0
    code, out, _ = run(capsys, "code", "verify", token, "--db", str(other), "--at", LATER)
    assert code == 1 and json.loads(out)["reason"] == "CODE_UNKNOWN_KEY"
    assert run(capsys, "keys", "add", str(trust), "--db", str(other))[0] == 0
    assert run(capsys, "code", "verify", token, "--db", str(other), "--at", LATER)[0] == 0

    code, out, _ = run(capsys, "keys", "revoke", kid, "--db", url)
    assert code == 0 and json.loads(out)["revoked_at"]
    code, out, _ = run(capsys, "code", "verify", token, "--db", url, "--at", LATER)
    assert code == 1 and json.loads(out)["reason"] == "CODE_KEY_REVOKED"
    code, out, _ = run(capsys, "keys", "list", "--db", url)
    assert [k["kid"] for k in json.loads(out)["keys"]] == [kid]

    # a second key added from its .pub file
    code, out, _ = run(capsys, "keys", "new", "--out", str(tmp_path / "k2"))
    kid2 = out.strip()
    code, out, _ = run(
        capsys,
        "keys",
        "add",
        str(tmp_path / "k2" / "issuer.pub"),
        "--db",
        url,
        "--not-before",
        "2026-01-01T00:00:00Z",
        "--not-after",
        "2027-01-01T00:00:00Z",
    )
    assert code == 0 and json.loads(out)["kid"] == kid2 and json.loads(out)["not_after"].startswith("2027")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["code", "issue", "--worker", "nope", "--key", "K"], ["UUID"]),
        (
            ["code", "issue", "--worker", str(uuid.UUID(int=1)), "--key", "/nonexistent/issuer.key"],
            ["私钥", "private key"],
        ),
        (
            [
                "code",
                "issue",
                "--worker",
                str(uuid.UUID(int=1)),
                "--project",
                str(uuid.UUID(int=2)),
                "--key",
                "K",
            ],
            ["项目", "project"],
        ),
        (
            ["code", "issue", "--worker", str(uuid.UUID(int=1)), "--key", "K", "--validity", "0"],
            ["有效期", "validity"],
        ),
        (
            ["code", "issue", "--worker", str(uuid.UUID(int=1)), "--key", "K", "--at", "yesterday"],
            ["ISO 8601"],
        ),
        (["code", "verify", "X", "--trust", "/nonexistent/trust.json"], ["信任文件", "trust file"]),
        (["keys", "revoke", "00000000"], ["00000000"]),
    ],
)
def test_bad_input_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, argv: list[str], words: list[str]
) -> None:
    if argv[0] == "keys":
        argv = [*argv, "--db", sqlite_url]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    for w in words:
        assert w in err, err


def test_keys_new_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "keys", "new", "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "issuer.key").read_bytes()
    code, _, err = run(capsys, "keys", "new", "--out", str(tmp_path))
    assert code == 2 and "overwritten" in err
    assert (tmp_path / "issuer.key").read_bytes() == before


def test_keys_new_with_an_unreachable_database_makes_no_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "keys", "new", "--out", str(tmp_path / "k"), "--db", str(tmp_path / "no" / "x.db")
    )
    assert code == 2 and "does not exist" in err and not (tmp_path / "k").exists()
