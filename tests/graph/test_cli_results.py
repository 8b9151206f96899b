"""nodegrad eval / sample / runs, and what nodegrad train keeps of a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from results_graphs import char_graph, identity, linear_graph, trained

from app.cli import main
from app.graph import io
from app.graph.runs import load_runs, runs_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROWS = [([2.0, 0.0], 0), ([0.0, 3.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([0.0, 2.0], 1)]

Capture = pytest.CaptureFixture[str]


def classifier(tmp_path: Path) -> Path:
    graph = linear_graph(tmp_path, ROWS, 2, "cross_entropy_loss")
    io.save_weights(identity(2), io.weights_path(graph))
    return graph


def test_eval_prints_metrics_and_the_confusion_matrix(tmp_path: Path, capsys: Capture) -> None:
    assert main(["eval", str(classifier(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "classification on the training split (5 samples)" in out
    assert "accuracy" in out and "60.00%" in out
    table = out.split("confusion matrix (rows = true class, columns = predicted):\n")[1]
    assert table.splitlines()[:3] == [
        "  true \\ pred  0  1",
        "  0            1  1",
        "  1            1  2",
    ]
    assert "sample 1: true 0, predicted 1 (95.3%)" in out


def test_eval_json_is_one_object(tmp_path: Path, capsys: Capture) -> None:
    assert main(["eval", str(classifier(tmp_path)), "--json", "--split", "train"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "classification"
    assert data["classes"] == ["0", "1"] and data["confusion_matrix"] == [[1, 1], [1, 2]]
    assert data["metrics"]["accuracy"] == pytest.approx(0.6)


def test_eval_reads_weights_from_a_given_path(tmp_path: Path, capsys: Capture) -> None:
    graph = classifier(tmp_path)
    other = tmp_path / "swapped.npz"
    io.save_weights({"fc.weight": np.eye(2)[::-1].copy(), "fc.bias": np.zeros(2)}, other)
    assert main(["eval", str(graph), "--weights", str(other), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confusion_matrix"] == [[1, 1], [2, 1]]


def test_eval_without_weights_says_so(tmp_path: Path, capsys: Capture) -> None:
    graph = linear_graph(tmp_path, ROWS, 2, "cross_entropy_loss")
    assert main(["eval", str(graph)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no trained weights" in err and "nodegrad train" in err


def test_eval_of_weights_that_do_not_fit(tmp_path: Path, capsys: Capture) -> None:
    graph = linear_graph(tmp_path, ROWS, 2, "cross_entropy_loss")
    io.save_weights({"fc.weight": np.eye(3), "fc.bias": np.zeros(3)}, io.weights_path(graph))
    assert main(["eval", str(graph)]) == 1
    err = capsys.readouterr().err
    assert "fc" in err and "Traceback" not in err


def test_eval_of_a_regression_graph(tmp_path: Path, capsys: Capture) -> None:
    graph = linear_graph(tmp_path, [([1.0], 1.5), ([2.0], 3.5), ([3.0], 5.5)], 1, "mse_loss")
    io.save_weights(
        {"fc.weight": np.array([[2.0]]), "fc.bias": np.zeros(1)}, io.weights_path(graph)
    )
    assert main(["eval", str(graph), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["task"] == "regression" and "confusion_matrix" not in data
    assert data["metrics"]["mse"] == pytest.approx(0.25)
    assert data["metrics"]["r2"] == pytest.approx(1 - 0.75 / 8)


def test_sample_prints_the_prompt_and_its_continuation(tmp_path: Path, capsys: Capture) -> None:
    graph = char_graph(tmp_path)
    trained(graph, epochs=1)
    args = ["sample", str(graph), "--prompt", "the ", "--length", "30", "--seed", "7"]
    assert main([*args, "--temperature", "0.5"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--temperature", "0.5"]) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("the ") and len(first.rstrip("\n")) == 34


def test_sample_from_a_graph_that_is_not_a_language_model(tmp_path: Path, capsys: Capture) -> None:
    assert main(["sample", str(classifier(tmp_path)), "--prompt", "a", "--length", "3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a graph trained on a text dataset" in err
    assert main(["sample", str(classifier(tmp_path)), "--prompt", "a", "--length", "-3"]) == 2


def test_train_saves_weights_beside_the_graph_and_records_the_run(
    tmp_path: Path, capsys: Capture
) -> None:
    graph = tmp_path / "xor.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    assert main(["train", str(graph), "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert f"weights saved to {io.weights_path(graph)}" in out
    assert f"run recorded as 'run 1' in {runs_path(graph)}" in out
    assert sorted(io.load_weights(io.weights_path(graph))) == [
        "hidden.bias", "hidden.weight", "out.bias", "out.weight",
    ]  # fmt: skip
    runs = load_runs(graph).runs
    assert len(runs) == 1 and len(runs[0].epochs) == 3 and runs[0].source == "cli"
    reference = trained(EXAMPLES / "xor.nodegrad", epochs=3, save=False)  # same seed
    assert main(["eval", str(graph), "--json"]) == 0  # the saved weights are the trained ones
    assert json.loads(capsys.readouterr().out)["metrics"]["loss"] == pytest.approx(
        reference.evaluate()["loss"], rel=1e-6
    )


def test_train_no_save_keeps_no_weights(tmp_path: Path, capsys: Capture) -> None:
    graph = tmp_path / "xor.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    assert main(["train", str(graph), "--epochs", "2", "--no-save"]) == 0
    assert "weights saved" not in capsys.readouterr().out
    assert not io.weights_path(graph).exists()
    assert len(load_runs(graph).runs) == 1


def test_runs_lists_the_recorded_runs(tmp_path: Path, capsys: Capture) -> None:
    graph = tmp_path / "xor.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    assert main(["runs", str(graph)]) == 0
    assert "no runs recorded yet" in capsys.readouterr().out
    for _ in range(2):
        assert main(["train", str(graph), "--epochs", "2", "--no-save"]) == 0
    doc = io.load(graph)
    doc.set_param("hidden", "units", 6)
    io.save(doc, graph)
    with runs_path(graph).open("a", encoding="utf-8") as handle:
        handle.write("garbage\n")
    capsys.readouterr()
    assert main(["runs", str(graph)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == [
        "run", "started", "epochs", "time", "loss", "val", "loss", "val", "acc", "end", "device",
        "graph",
    ]  # fmt: skip
    assert lines[1].lstrip().startswith("run 1") and lines[2].lstrip().startswith("run 2")
    assert all(line.endswith("edited since") for line in lines[1:])
    assert "line 3: skipped an unreadable run" in captured.err
