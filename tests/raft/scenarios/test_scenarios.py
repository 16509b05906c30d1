"""Runs every script in testdata/ and compares the whole transcript with the file.

Regenerate the goldens with ``RAFT_REGEN=1 .venv/bin/pytest tests/raft/scenarios`` --
then read every changed file: a golden that records a wrong behaviour is a bug.
"""

import difflib
import os
from pathlib import Path

import pytest

from .interaction import run_script

TESTDATA = Path(__file__).parent / "testdata"
SCRIPTS = sorted(TESTDATA.glob("*.txt"))


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_scenario(path: Path) -> None:
    text = path.read_text()
    actual = run_script(text)
    if os.environ.get("RAFT_REGEN") == "1":
        if actual != text:
            path.write_text(actual)
        return
    if actual != text:
        diff = "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True), actual.splitlines(keepends=True), "expected", "actual", n=2
            )
        )
        pytest.fail(f"{path.name} differs from its golden (RAFT_REGEN=1 to rewrite, then review):\n{diff}")
