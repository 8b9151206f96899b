"""Output paths of the headless commands: never over an input, refused before any work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    """A copy of the XOR example in ``tmp_path``."""
    path = tmp_path / "xor.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", path)
    return path


@pytest.mark.parametrize("target", ["python", "torch", "onnx"])
def test_export_refuses_to_write_over_the_graph(graph: Path, target: str, capsys: Capture) -> None:
    before = graph.read_bytes()
    assert main(["export", str(graph), "--to", target, "-o", str(graph)]) == 1
    assert "that is the input file" in capsys.readouterr().err
    assert graph.read_bytes() == before


@pytest.mark.parametrize("target", ["python", "onnx"])
def test_export_into_a_missing_folder_names_the_folder(
    graph: Path, target: str, capsys: Capture
) -> None:
    out = graph.parent / "nowhere" / "model.out"
    assert main(["export", str(graph), "--to", target, "-o", str(out)]) == 1
    assert "the folder" in capsys.readouterr().err
    assert not out.parent.exists()


def test_train_refuses_bad_save_weights_before_training(graph: Path, capsys: Capture) -> None:
    before = graph.read_bytes()
    assert main(["train", str(graph), "--epochs", "1", "--save-weights", str(graph)]) == 1
    missing = graph.parent / "nowhere" / "w.safetensors"
    assert main(["train", str(graph), "--epochs", "1", "--save-weights", str(missing)]) == 1
    captured = capsys.readouterr()
    assert "that is the input file" in captured.err
    assert "--save-weights" in captured.err and "does not exist" in captured.err
    assert "epoch 1/1" not in captured.err  # refused before a step was spent
    assert graph.read_bytes() == before
    assert sorted(p.name for p in graph.parent.iterdir()) == ["xor.nodegrad"]


def test_import_refuses_to_write_over_the_model(graph: Path, capsys: Capture) -> None:
    model = graph.with_suffix(".onnx")
    assert main(["export", str(graph), "--to", "onnx", "-o", str(model)]) == 0
    before = model.read_bytes()
    assert main(["import", str(model), "-o", str(model)]) == 1
    assert "that is the input file" in capsys.readouterr().err
    assert model.read_bytes() == before


def test_eval_with_a_missing_weights_file_names_it(graph: Path, capsys: Capture) -> None:
    missing = graph.parent / "other.safetensors"
    assert main(["eval", str(graph), "--weights", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"--weights {missing}: no such file" in err
    assert "train it first" not in err


class _ClosedPipe:
    """A stdout whose reader has gone away (``nodegrad ... | head``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_quietly(
    graph: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["validate", str(graph)]) == 141
    assert capsys.readouterr().err == ""
