"""The architecture, pinned: store/ never imports the UI (checked in a clean interpreter, over every module
of the package); the layering contracts of pyproject.toml's [tool.importlinter] hold; no import cycle among
the modules of kiosk/ and store/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

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


def test_import_contracts() -> None:
    """Every contract of [tool.importlinter] in pyproject.toml is kept (lint-imports' report otherwise)."""
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        pytest.fail(f"import contracts broken:\n{out.stdout}\n{out.stderr}", pytrace=False)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One cycle (module -> module -> … -> the first again) through each group of modules that import
    each other, the groups found by Tarjan's strongly-connected-components algorithm."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in imports[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for m in imports:
        if m not in index:
            visit(m)
    cycles = []
    for group in groups:
        first = group[0]
        step = next(m for m in imports[first] if m in group)
        back = graph.find_shortest_chain(importer=step, imported=first) or (step, first)
        cycles.append([first, *back])
    return cycles


def test_no_import_cycle() -> None:
    """No module of kiosk/ or store/ imports itself through others. Every import counts, the lazy ones
    inside functions and those under TYPE_CHECKING too: each is a dependency the next reader follows."""
    graph = grimp.build_graph("kiosk", "store", cache_dir=None)
    cycles = _cycles(graph)
    if cycles:
        pytest.fail("import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles), pytrace=False)
