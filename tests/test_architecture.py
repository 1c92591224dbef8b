"""store/ never imports the UI: checked in a clean interpreter, over every module of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_store_never_imports_textual() -> None:
    modules = sorted(
        "store." + ".".join(p.relative_to(ROOT / "store").with_suffix("").parts)
        for p in (ROOT / "store").rglob("*.py")
        if "migrations" not in p.parts and p.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'kiosk')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"store imports: {out.stdout}"
    assert len(modules) >= 10
