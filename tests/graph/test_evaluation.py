"""Evaluation against figures worked out by hand: classification, regression, sequences, text."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from results_graphs import char_graph, identity, linear_graph, trained

from app.graph import io
from app.graph.compile import Program, compile_document
from app.graph.errors import GraphError
from app.graph.evaluation import evaluate, predict, split_of
from app.graph.session import Session

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# features are the logits themselves (identity weights); the target is the true class
ROWS = [
    ([2.0, 0.0, 0.0], 0),  # right
    ([0.0, 3.0, 0.0], 0),  # wrong: 1 with e^3 / (e^3 + 2) = 0.909
    ([0.0, 1.0, 0.0], 1),  # right
    ([0.0, 0.0, 1.0], 1),  # wrong: 2 with e / (e + 2) = 0.576
    ([0.0, 0.0, 5.0], 2),  # right
    ([1.5, 0.0, 0.0], 2),  # wrong: 0 with e^1.5 / (e^1.5 + 2) = 0.691
    ([0.0, 0.0, 2.0], 2),  # right
]


def classifier(tmp_path: Path) -> Program:
    program = compile_document(io.load(linear_graph(tmp_path, ROWS, 3, "cross_entropy_loss")))
    program.load_state_dict(identity(3))
    return program


def test_classification_metrics_confusion_and_mistakes(tmp_path: Path) -> None:
    result = evaluate(classifier(tmp_path))
    assert result.task == "classification" and result.samples == 7
    assert result.split == "train" and "no validation split" in result.note
    assert result.confusion is not None
    assert result.confusion.tolist() == [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert result.metrics["accuracy"] == pytest.approx(4 / 7)
    logits = np.array([r[0] for r in ROWS])
    true = np.array([r[1] for r in ROWS])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert result.metrics["loss"] == pytest.approx(-log_p[np.arange(7), true].mean(), rel=1e-5)
    scores = {s.name: (s.precision, s.recall, s.support) for s in result.per_class}
    assert scores == {"0": (0.5, 0.5, 2), "1": (0.5, 0.5, 2), "2": (2 / 3, 2 / 3, 3)}
    assert result.metrics["macro_f1"] == pytest.approx((0.5 + 0.5 + 2 / 3) / 3)
    assert [(m.index, m.true, m.predicted) for m in result.mistakes] == [
        (1, 0, 1), (5, 2, 0), (3, 1, 2),
    ]  # fmt: skip
    e = math.e
    assert [m.confidence for m in result.mistakes] == pytest.approx(
        [e**3 / (e**3 + 2), e**1.5 / (e**1.5 + 2), e / (e + 2)], rel=1e-5
    )
    assert result.cell_samples(2, 0) == [5] and result.cell_samples(2, 2) == [4, 6]


def test_classification_json_has_the_agreed_keys(tmp_path: Path) -> None:
    data = evaluate(classifier(tmp_path)).to_json()
    assert data["task"] == "classification"
    assert data["classes"] == ["0", "1", "2"]
    assert data["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert set(data["metrics"]) == {"loss", "accuracy", "macro_f1"}
    assert data["mistakes"][0] == {
        "index": 1, "true": "0", "predicted": "1", "confidence": pytest.approx(0.909, abs=1e-3)
    }  # fmt: skip


def test_regression_metrics(tmp_path: Path) -> None:
    rows = [([1.0], 1.5), ([2.0], 3.5), ([3.0], 5.5)]
    program = compile_document(io.load(linear_graph(tmp_path, rows, 1, "mse_loss")))
    program.load_state_dict({"fc.weight": np.array([[2.0]]), "fc.bias": np.array([0.0])})
    result = evaluate(program)
    assert result.task == "regression"
    # predictions 2, 4, 6: every error is 0.5; SS_tot = 2² + 0 + 2² = 8; SS_res = 0.75
    assert result.metrics["mse"] == pytest.approx(0.25)
    assert result.metrics["mae"] == pytest.approx(0.5)
    assert result.metrics["r2"] == pytest.approx(1 - 0.75 / 8)
    assert result.metrics["loss"] == pytest.approx(0.25)
    assert result.predicted is not None and result.predicted.ravel().tolist() == [2, 4, 6]
    assert result.actual is not None and result.actual.ravel().tolist() == [1.5, 3.5, 5.5]
    assert not result.is_sequence and result.confusion is None
    assert set(result.to_json()) == {"task", "split", "samples", "metrics", "note"}


def test_sequences_give_predicted_and_true_series() -> None:
    session = Session(io.load(EXAMPLES / "sine_lstm.nodegrad"))
    result = evaluate(session.program)
    assert result.task == "regression" and result.is_sequence and result.split == "val"
    assert result.predicted is not None and result.actual is not None
    assert result.predicted.shape == result.actual.shape == (len(session.val_set), 20, 1)
    assert np.array_equal(result.actual, session.val_set.y)
    assert result.metrics["loss"] == pytest.approx(session.evaluate()["loss"], rel=1e-5)


def test_language_model_loss_accuracy_and_perplexity(tmp_path: Path) -> None:
    session = trained(char_graph(tmp_path), epochs=1)
    result = evaluate(session.program)
    reference = session.evaluate()
    assert result.task == "language" and result.split == "val"
    assert result.metrics["loss"] == pytest.approx(reference["loss"], rel=1e-5)
    assert result.metrics["accuracy"] == pytest.approx(reference["accuracy"])
    assert result.metrics["perplexity"] == pytest.approx(math.exp(result.metrics["loss"]))
    assert result.confusion is None and "classes" not in result.to_json()


def test_the_splits_are_the_sessions() -> None:
    session = Session(io.load(EXAMPLES / "spiral.nodegrad"))
    val, used = split_of(session.program, "val")
    train, _ = split_of(session.program, "train")
    assert used == "val" and session.val_set is not None
    assert np.array_equal(val.x, session.val_set.x) and np.array_equal(train.y, session.train_set.y)
    assert evaluate(session.program, "train").samples == len(session.train_set)


def test_predict_reads_no_targets(tmp_path: Path) -> None:
    program = classifier(tmp_path)
    out = predict(program, np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    assert out.tolist() == [[1.0, 2.0, 3.0]]


def test_bad_requests_say_what_is_wrong(tmp_path: Path) -> None:
    program = classifier(tmp_path)
    with pytest.raises(GraphError, match="unknown split 'test'"):
        evaluate(program, "test")  # type: ignore[arg-type]
    program.loss_nodes = []
    with pytest.raises(GraphError, match="no loss node"):
        evaluate(program)
