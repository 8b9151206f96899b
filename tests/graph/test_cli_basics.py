"""The command line's parsing and error handling (no graph needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import __version__
from app.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nodegrad {__version__}"


@pytest.mark.parametrize("command", ["validate", "train", "export"])
def test_missing_file_is_one_clear_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.nodegrad"
    extra = ["--to", "python"] if command == "export" else []
    assert main([command, str(missing), *extra]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"nodegrad: error: {missing}: no such file"
    assert "Traceback" not in err


def test_editor_on_a_missing_file_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "absent.nodegrad")]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["train", "g.nodegrad", "--epochs", "0"], ["export", "g.nodegrad"], ["train"]],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: nodegrad" in err
    assert "Traceback" not in err
