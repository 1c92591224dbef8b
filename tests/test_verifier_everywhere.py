"""Every command that verifies a personal code trusts the same keys and tolerates the same clock skew
(``kiosk.wiring.verifier_for``): the database's keys plus ``[codes] trust_file``, and ``[policy]
clock_skew_s``. For each command two cases, each failing without the config and passing with it:

- a code signed by a key known only through the trust file (refused CODE_UNKNOWN_KEY without it);
- a code from a phone whose clock runs 60 s ahead (CODE_NOT_YET_VALID at the default 30 s skew, accepted
  with ``clock_skew_s = 90``).
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from support.way_a_world import NEAR, World, build_world

from kiosk.cli import main
from kiosk.wiring import Services
from store.codes.keys import IssuerPrivateKey, register_public_key, write_trust_file
from store.codes.tokens import issue_code
from store.db.engine import make_engine, session
from store.db.migrate import upgrade_engine
from store.db.models import Employment
from store.reasons import Reason, Role


@dataclass
class Setup:
    world: World
    outsider: IssuerPrivateKey  # known only through the trust file
    trust_cfg: Path  # [codes] trust_file = the outsider's trust file
    skew_cfg: Path  # [policy] clock_skew_s = 90
    employment: uuid.UUID

    def code(self, role: Role, subject: uuid.UUID, *, case: str, project: uuid.UUID | None = None) -> str:
        now = datetime.now(UTC)
        if case == "trust":
            return issue_code(self.outsider, role=role, subject=subject, project=project, at=now)
        return issue_code(
            self.world.key, role=role, subject=subject, project=project, at=now + timedelta(seconds=60)
        )

    def config(self, case: str) -> Path:
        return self.trust_cfg if case == "trust" else self.skew_cfg


@pytest.fixture
def setup(sqlite_url: str, tmp_path: Path) -> Iterator[Setup]:
    world = build_world(sqlite_url)
    outsider = IssuerPrivateKey.generate()
    issuer = make_engine(f"sqlite:///{tmp_path / 'issuer.db'}")
    upgrade_engine(issuer)
    register_public_key(issuer, outsider.public_raw, not_before=datetime.now(UTC) - timedelta(days=1))
    write_trust_file(issuer, tmp_path / "trust.json")
    issuer.dispose()
    trust_cfg = tmp_path / "trust.toml"
    trust_cfg.write_text(f'[codes]\ntrust_file = "{tmp_path / "trust.json"}"\n', encoding="utf-8")
    skew_cfg = tmp_path / "skew.toml"
    skew_cfg.write_text("[policy]\nclock_skew_s = 90\n", encoding="utf-8")
    with session(world.engine) as s:
        employment = s.exec(select(Employment).where(Employment.worker_id == world.worker)).one().id
    yield Setup(world, outsider, trust_cfg, skew_cfg, employment)
    world.engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, [json.loads(x) for x in out.splitlines() if x.strip()], err


REFUSED = {"trust": "CODE_UNKNOWN_KEY", "skew": "CODE_NOT_YET_VALID"}
CASES = ["trust", "skew"]


@pytest.mark.parametrize("case", CASES)
def test_phone_signin(setup: Setup, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    w = setup.world
    officer = setup.code(Role.OFFICER, w.officer, case=case, project=w.project)
    worker = setup.code(Role.WORKER, w.worker, case=case)
    argv = [
        "phone",
        "signin",
        "--worker-code",
        worker,
        "--scan",
        officer,
        "--at",
        f"{NEAR[0]},{NEAR[1]}",
        "--db",
        w.url,
    ]
    rc, out, _ = run(capsys, *argv)
    assert rc == 1 and out[-1]["reason"] == REFUSED[case]
    rc, out, _ = run(capsys, *argv, "--config", str(setup.config(case)))
    assert rc == 0 and out[-1]["outcome"] == "signed_in", out


@pytest.mark.parametrize("case", CASES)
def test_phone_confirm(setup: Setup, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    token = setup.code(Role.WORKER, setup.world.worker, case=case)
    argv = [
        "phone",
        "confirm",
        "--worker-code",
        token,
        "--employment",
        str(setup.employment),
        "--db",
        setup.world.url,
    ]
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and Reason[REFUSED[case]].zh in err, err
    rc, out, err = run(capsys, *argv, "--config", str(setup.config(case)))
    assert rc == 0 and out[-1]["employment"] == str(setup.employment), err


@pytest.mark.parametrize("case", CASES)
def test_code_verify(setup: Setup, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    token = setup.code(Role.WORKER, setup.world.worker, case=case)
    argv = ["code", "verify", token, "--db", setup.world.url]
    rc, out, _ = run(capsys, *argv)
    assert rc == 1 and out[-1]["reason"] == REFUSED[case]
    rc, out, _ = run(capsys, *argv, "--config", str(setup.config(case)))
    assert rc == 0 and out[-1]["ok"] is True


@pytest.mark.parametrize("case", CASES)
def test_run_headless(
    setup: Setup, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = setup.world
    token = setup.code(Role.WORKER, w.worker, case=case)
    argv = ["run", "--headless", "--source", "-", "--db", w.url, "--project", str(w.project), "--no-photos"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{token}\n".encode())))
    rc, out, _ = run(capsys, *argv)
    assert rc == 0 and out[-1]["reason"] == REFUSED[case]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{token}\n".encode())))
    rc, out, _ = run(capsys, *argv, "--config", str(setup.config(case)))
    assert rc == 0 and out[-1]["outcome"] == "signed_in"


@pytest.mark.parametrize("case", CASES)
def test_run_officer_screen(setup: Setup, case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``kiosk run``: the app gets the verifier of verifier_for (its unlock and its gate use it)."""
    import threading

    import kiosk.officer.app

    got: dict[str, Any] = {}

    class NoScreen:
        camera_released = threading.Event()

        def run(self) -> None:
            pass

    def capture(services: Services, camera: object, **kw: object) -> NoScreen:
        got["verifier"] = services.verifier
        NoScreen.camera_released.set()
        return NoScreen()

    monkeypatch.setattr(kiosk.officer.app, "build_app", capture)
    local = tmp_path / "local.db"
    w = setup.world
    for cfg_path in (None, setup.config(case)):
        text = cfg_path.read_text(encoding="utf-8") if cfg_path else ""
        # the officer's own code is checked on the kiosk's local store: the same keys as the shared one
        cfg = tmp_path / f"run-{case}.toml"
        cfg.write_text(
            f'[store]\nlocal_url = "{w.url}"\nshared_url = "sqlite:///{local}"\n' + text, encoding="utf-8"
        )
        assert main(["run", "--config", str(cfg)]) == 0
        from store.codes.tokens import CodeError

        token = setup.code(Role.OFFICER, w.officer, case=case, project=w.project)
        if cfg_path is None:
            with pytest.raises(CodeError) as exc:
                got["verifier"].verify(token, role=Role.OFFICER)
            assert exc.value.reason.value == REFUSED[case]
        else:
            assert got["verifier"].verify(token, role=Role.OFFICER).subject == w.officer


def test_the_demo_uses_the_configured_skew(tmp_path: Path) -> None:
    from kiosk.demo import start_demo

    demo = start_demo(tmp_path)
    try:
        assert demo.verifier.skew_s == demo.config.policy.clock_skew_s
    finally:
        demo.engine.dispose()


def test_one_construction() -> None:
    """No command builds a Verifier of its own (``code verify --trust FILE`` checks that file alone)."""
    root = Path(__file__).resolve().parents[1] / "kiosk"
    makers = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "Verifier(" in p.read_text(encoding="utf-8")
    ]
    assert sorted(makers) == ["cli/code_cmd.py", "wiring.py"]
    assert "verifier_for(" in (root / "cli" / "code_cmd.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_phone_service(setup: Setup, case: str, tmp_path: Path) -> None:
    """``kiosk serve``: way A on the phone (``POST /api/signin``) verifies the scanned officer's code with
    the service's verifier, which honours the trust file and the skew like every command."""
    from fastapi.testclient import TestClient
    from support.serve_world import csrf_of

    from kiosk.config import Config, load_config
    from kiosk.serve.app import create_app
    from kiosk.serve.context import build_context
    from store.people.phone import create_link

    w = setup.world
    priv, _pub = w.key.save(tmp_path / "serve-key")
    for cfg in (Config(), load_config(setup.config(case))):
        cfg = cfg.model_copy(update={"serve": cfg.serve.model_copy(update={"issuer_key": str(priv)})})
        ctx = build_context(cfg, w.url)
        with TestClient(create_app(ctx), base_url="http://testserver") as client:
            path = f"/a/{create_link(w.engine, worker_id=w.worker).token}"
            assert (
                client.post(
                    path, data={"csrf_token": csrf_of(client.get(path).text)}, follow_redirects=False
                ).status_code
                == 303
            )
            csrf = csrf_of(client.get("/").text)
            body = {
                "officer_code": setup.code(Role.OFFICER, w.officer, case=case, project=w.project),
                "latitude": NEAR[0],
                "longitude": NEAR[1],
                "accuracy": 10,
                "nonce": uuid.uuid4().hex,
            }
            r = client.post("/api/signin", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        if cfg.codes.trust_file or cfg.policy.clock_skew_s != 30:
            assert r.json()["outcome"] == "signed_in", r.json()
        else:
            assert r.json()["reason"] == REFUSED[case], r.json()
        ctx.engine.dispose()
