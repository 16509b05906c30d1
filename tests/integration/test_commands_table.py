"""README.md's table of supported commands is generated from the command table and must be current."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import commands_table  # noqa: E402

from cacheflow.commands import TABLE  # noqa: E402


def test_readme_table_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "commands_table.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + "\nRun `make commands-table` to regenerate README.md's table."


def test_table_lists_every_command_and_subcommand() -> None:
    block = commands_table.render()
    for cmd in TABLE.all_with_subcommands():
        assert f"| `{cmd.name.upper().replace('|', ' ')}` |" in block, cmd.name
    assert block.startswith(commands_table.START) and block.endswith(commands_table.END)


def test_missing_markers_are_added_at_the_end_under_the_heading() -> None:
    text = "# Title\n\nSome text.\n"
    out = commands_table.updated(text)
    assert out.startswith(text)
    assert f"\n{commands_table.HEADING}\n\n{commands_table.START}\n" in out
    assert out.endswith(commands_table.END + "\n")
    assert commands_table.updated(out) == out


def test_only_the_block_between_markers_changes() -> None:
    text = f"# Title\n\n{commands_table.HEADING}\n\n{commands_table.START}\nOLD-ROW\n{commands_table.END}\n\n## After\n"
    out = commands_table.updated(text)
    assert out.startswith(f"# Title\n\n{commands_table.HEADING}\n\n{commands_table.START}\n")
    assert out.endswith(f"{commands_table.END}\n\n## After\n")
    assert "OLD-ROW" not in out


def test_check_reports_a_stale_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\n{commands_table.START}\nold\n{commands_table.END}\n")
    monkeypatch.setattr(commands_table, "README", readme)
    assert commands_table.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert commands_table.main(["--write"]) == 0
    assert commands_table.main(["--check"]) == 0
