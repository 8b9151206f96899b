"""The command line on an imported (Input-fed) model, a head wider than the vocabulary, and
what a run records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["python", "torch"])
def test_export_of_an_imported_onnx_model_with_its_weights(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``nodegrad import`` writes the weights beside the graph; exporting that graph with them
    works (the weights are checked against the inference program, which needs no loss)."""
    pytest.importorskip("onnx")
    graph = tmp_path / "digits_cnn.nodegrad"
    shutil.copy(ROOT / "examples" / "digits_cnn.nodegrad", graph)
    assert main(["export", str(graph), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    imported = tmp_path / "imported.nodegrad"
    assert main(["import", str(tmp_path / "m.onnx"), "-o", str(imported)]) == 0
    assert imported.with_suffix(".safetensors").exists()
    capsys.readouterr()
    status = main(["export", str(imported), "--to", target, "-o", str(tmp_path / "model.py")])
    assert status == 0, capsys.readouterr().err
    assert (tmp_path / "model.py").exists()


def test_sample_from_a_head_wider_than_the_vocabulary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A language model whose head has more units than characters (validation only warns)
    samples among the characters only."""
    data = json.loads((ROOT / "examples" / "char_lstm.nodegrad").read_text(encoding="utf-8"))
    nodes = {n["id"]: n for n in data["nodes"]}
    nodes["text"]["params"]["corpus"] = "lighthouse"  # 49 characters
    nodes["text"]["params"]["seq_len"] = 8
    nodes["embed"]["params"]["vocab_size"] = 200
    nodes["lstm"]["params"]["hidden"] = 4
    nodes["logits"]["params"]["units"] = 200  # 151 columns that are no character
    graph = tmp_path / "wide.nodegrad"
    graph.write_text(json.dumps(data), encoding="utf-8")
    assert main(["train", str(graph), "--epochs", "1"]) == 0
    capsys.readouterr()
    status = main(["sample", str(graph), "--prompt", "The ", "--length", "40"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.startswith("The ")


def test_a_run_records_the_epochs_it_was_trained_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``nodegrad train --epochs 2`` records 2 epochs in the run's settings, not the file's."""
    from app.graph.runs import load_runs

    graph = tmp_path / "xor.nodegrad"
    shutil.copy(ROOT / "examples" / "xor.nodegrad", graph)
    assert main(["train", str(graph), "--epochs", "2", "--no-save"]) == 0
    (run,) = load_runs(graph).runs
    assert len(run.epochs) == 2
    assert run.settings["epochs"] == 2
