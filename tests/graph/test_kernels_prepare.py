"""The engine's compiled kernels made ready before training: the CLI's line, one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine.kernels
from app.cli import main
from app.graph.kernels import PREPARING, needs_preparing, prepare_kernels

XOR = Path(__file__).resolve().parents[2] / "examples" / "xor.nodegrad"

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def xor(tmp_path: Path) -> str:
    """A copy of the XOR graph (a run's record is written beside the graph)."""
    return str(shutil.copy(XOR, tmp_path / "xor.nodegrad"))


def _unprepared(monkeypatch: pytest.MonkeyPatch, fail: str = "") -> list[str]:
    """Make the kernels look unprepared until ``prepare`` is called; the calls are listed."""
    calls: list[str] = []

    def prepare() -> None:
        calls.append("prepare")
        if fail:
            raise RuntimeError(fail)

    monkeypatch.setattr(engine.kernels, "prepared", lambda: "prepare" in calls and not fail)
    monkeypatch.setattr(engine.kernels, "prepare", prepare)
    return calls


def test_train_says_it_prepares_the_kernels_once_before_the_first_step(
    xor: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    calls = _unprepared(monkeypatch)
    assert main(["train", xor, "--epochs", "1", "--no-save"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("preparing compiled kernels…\n")
    assert err.count("preparing compiled kernels") == 1 and calls == ["prepare"]


def test_train_says_nothing_when_the_kernels_are_ready(
    xor: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setattr(engine.kernels, "prepared", lambda: True)
    assert main(["train", xor, "--epochs", "1", "--no-save"]) == 0
    assert "preparing" not in capsys.readouterr().err


def test_a_compiler_failure_is_one_line_and_a_failed_exit(
    xor: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    _unprepared(monkeypatch, fail="LLVM ERROR: out of registers\n  at line 3\n")
    assert main(["train", xor, "--epochs", "1", "--no-save"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "preparing compiled kernels…",
        "nodegrad: error: the compiled kernels could not be prepared "
        "(RuntimeError: LLVM ERROR: out of registers)",
    ]


def test_prepare_kernels_answers_with_a_line_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PREPARING.startswith("Preparing compiled kernels")
    calls = _unprepared(monkeypatch)
    assert needs_preparing()
    assert prepare_kernels() == "" and calls == ["prepare"]
    assert not needs_preparing()
    assert prepare_kernels() == "" and calls == ["prepare"]  # once per process
    _unprepared(monkeypatch, fail="")
    monkeypatch.setattr(engine.kernels, "prepare", lambda: (_ for _ in ()).throw(OSError()))
    assert prepare_kernels() == "the compiled kernels could not be prepared (OSError)"
