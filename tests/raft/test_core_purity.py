"""The Raft core is pure (DESIGN.md, issue 6): no network, files, clock or global randomness.

import-linter keeps it from importing our storage and server packages; this checks the
standard library side, which import-linter does not see: no I/O or clock modules at all,
and ``random`` only as the type of the injected generator, never its module-level functions.
"""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "cacheflow" / "raft" / "core"
FORBIDDEN = {"asyncio", "socket", "time", "os", "io", "threading", "pathlib", "selectors", "datetime", "shutil"}


def _modules() -> list[Path]:
    found = sorted(CORE.glob("*.py"))
    assert len(found) > 5, "the core's modules were not found"
    return found


def test_core_imports_no_io_or_clock_module() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_core_uses_no_global_randomness() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                assert [a.name for a in node.names] == ["Random"], f"{path.name}: from random import {node.names}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "random":
                assert node.attr == "Random", f"{path.name}:{node.lineno} calls random.{node.attr}"
