"""What starting the officer screen imports (issue 29: the screen is up in a second). Import-time structure,
not a timing: in a fresh interpreter, ``kiosk run``'s path (the CLI, ``open_kiosk`` on a migrated store,
``build_app``) brings the locked screen up, and none of the heavy modules below may be loaded by then.
OpenCV, numpy and the decoders load in the camera's worker once the screen is drawn; Alembic only when a
migration runs; the phone service, spreadsheets and images when those commands run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]

#: modules the first screen does not need (each costs tens to hundreds of milliseconds to import)
HEAVY = (
    "alembic",  # migrations: the start checks the schema by its stored revision string (store.db.schema)
    "mako",  # Alembic's templates
    "cv2",  # OpenCV: camera sources, decoders, pictures (the camera's worker)
    "numpy",
    "zxingcpp",  # the decoders
    "pyzbar",
    "qrcode",  # drawing codes (way A's screen, the simulated phone)
    "PIL",  # pictures in the terminal
    "fastapi",  # the phone service
    "uvicorn",
    "openpyxl",  # spreadsheets (imports, exports)
)

CHILD = """
import asyncio, json, sys
from kiosk import cli  # the console command's module, as `kiosk run` starts
from kiosk.cli import run_cmd  # noqa: F401
from kiosk.config import parse_config
from kiosk.officer.app import build_app
from kiosk.wiring import open_kiosk

cfg = parse_config({"store": {"local_url": sys.argv[1]}, "kiosk": {"name": "gate"}})

async def main() -> list[str]:
    with open_kiosk(cfg) as services:
        app = build_app(services, None)  # the camera's worker would load OpenCV: see the module doc
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.screen is app.locked_screen
            loaded = sorted(sys.modules)
    return loaded

print(json.dumps(asyncio.run(main())))
"""


def test_starting_the_officer_screen_loads_no_heavy_module(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    upgrade(url)  # a kiosk that has run before: its store is at the latest revision
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "kiosk.officer.app" in loaded and "textual" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"starting the officer screen imported {heavy}"
