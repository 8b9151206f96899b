"""Session: training events, cancellation, learning-rate changes, NaN detection, weights."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from app.graph import io
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.session import (
    EpochMetrics,
    NormSchedule,
    Session,
    StepMetrics,
    TrainingFinished,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def test_events_come_in_order_and_training_learns() -> None:
    session = Session(load("spiral"))
    events = list(session.train(epochs=15))
    steps = [e for e in events if isinstance(e, StepMetrics)]
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    assert events[-1] == TrainingFinished("finished", message="trained 15 epochs")
    assert len(epochs) == 15 and [e.epoch for e in epochs] == list(range(15))
    assert len(steps) == 15 * steps[0].steps_per_epoch
    assert steps[0].steps_per_epoch == 8  # 240 training samples, batches of 32
    assert [s.step for s in steps[:8]] == list(range(8))
    assert epochs[-1].train_loss < 0.5 * epochs[0].train_loss
    assert epochs[-1].val_accuracy is not None and epochs[-1].val_accuracy > 0.8
    assert all(s.elapsed <= e.elapsed for s, e in zip(steps[7::8], epochs, strict=True))
    assert all(s.samples_per_s > 0 for s in steps)


def test_gradient_norms_match_the_gradients() -> None:
    session = Session(load("digits_mlp"))
    program = session.program
    x, y = session.train_set.x[:32], session.train_set.y[:32]
    values = program.forward(x, y)
    program.loss(values).backward()
    outputs, params = session.gradient_norms(values)
    assert set(params) == {"dense1", "logits"}
    weight, bias = (
        program.modules["logits"].weight.grad.data,
        program.modules["logits"].bias.grad.data,
    )
    expected = np.sqrt(
        (weight.astype(np.float64) ** 2).sum() + (bias.astype(np.float64) ** 2).sum()
    )
    assert params["logits"] == pytest.approx(expected, rel=1e-5)
    grad = values["relu1"]["y"].grad.data
    assert outputs["relu1"] == pytest.approx(np.linalg.norm(grad.astype(np.float64)), rel=1e-5)
    assert outputs["loss"] == pytest.approx(1.0)
    assert "data" not in outputs  # no gradient reaches the batch


def test_step_events_carry_the_norms() -> None:
    session = Session(load("xor"))
    step = next(e for e in session.train(epochs=1) if isinstance(e, StepMetrics))
    assert set(step.param_grad_norms) == {"hidden", "out"}
    assert set(step.output_grad_norms) >= {"hidden", "tanh", "out", "loss"}
    assert all(v > 0 for v in step.param_grad_norms.values())


def test_stop_event_ends_training_between_steps() -> None:
    session = Session(load("digits_mlp"))
    stop = threading.Event()
    events = []
    for event in session.train(epochs=5, stop=stop):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step == 2:
            stop.set()
    assert isinstance(events[-1], TrainingFinished) and events[-1].reason == "stopped"
    assert sum(isinstance(e, StepMetrics) for e in events) == 3


def test_learning_rate_change_takes_effect_at_next_step() -> None:
    doc = load("xor")
    doc.set_setting("momentum", 0.0)
    session = Session(doc)
    run = session.train(epochs=3)
    start = session.program.state_dict()["out.weight"]
    next(run)  # first step, with the saved rate
    before = session.program.state_dict()["out.weight"]
    assert np.abs(before - start).max() > 1e-4
    session.set_learning_rate(1e-12)
    assert session.optimizer.alpha == pytest.approx(0.1)  # not before the next step
    assert isinstance(next(run), EpochMetrics)  # no validation split: no step here
    assert isinstance(next(run), StepMetrics)  # second step, with the new rate
    assert session.optimizer.alpha == pytest.approx(1e-12)
    np.testing.assert_allclose(session.program.state_dict()["out.weight"], before, atol=1e-9)
    with pytest.raises(ValueError, match="positive"):
        session.set_learning_rate(-1.0)


def test_non_finite_output_names_the_first_node() -> None:
    session = Session(load("spiral"))
    session.program.modules["dense2"].weight.data[0, 0] = np.inf
    events = list(session.train(epochs=1))
    last = events[-1]
    assert isinstance(last, TrainingFinished)
    assert (last.reason, last.node_id) == ("nan", "dense2")
    assert "dense2" in last.message
    assert not any(isinstance(e, StepMetrics) for e in events)


def test_nan_only_in_the_validation_split_is_reported_with_its_origin() -> None:
    session = Session(load("spiral"))
    assert session.val_set is not None
    x = session.val_set.x.copy()
    x[300 % len(x), 0] = np.nan
    session.val_set = dataclasses.replace(session.val_set, x=x)
    events = list(session.train(epochs=1))
    last = events[-1]
    assert isinstance(last, TrainingFinished)
    assert (last.reason, last.node_id) == ("nan", session.program.data_node)
    assert "validation" in last.message and "check the data" in last.message
    assert f"'{session.program.data_node}'" in last.message


def test_divergence_is_caught_before_the_update() -> None:
    doc = load("xor")
    doc.set_setting("learning_rate", 9.0)
    doc.set_setting("momentum", 0.9)
    session = Session(doc)
    events = list(session.train(epochs=200))
    last = events[-1]
    assert last.reason == "nan"
    assert last.node_id in session.program.order
    assert f"'{last.node_id}'" in last.message


def test_evaluate_weights_and_load_weights(tmp_path: Path) -> None:
    session = Session(load("spiral"))
    list(session.train(epochs=10))
    metrics = session.evaluate()
    assert metrics["samples"] == 60
    assert 0.0 <= metrics["accuracy"] <= 1.0
    path = tmp_path / "spiral.npz"
    io.save_weights(session.weights(), path)
    fresh = Session(load("spiral"))
    assert fresh.evaluate()["loss"] != pytest.approx(metrics["loss"])
    fresh.load_weights(io.load_weights(path))
    assert fresh.evaluate()["loss"] == pytest.approx(metrics["loss"], rel=1e-6)
    with pytest.raises(GraphError, match="weights do not fit"):
        fresh.load_weights({"nope.weight": np.zeros(2)})


def test_regression_has_no_accuracy_and_no_split_has_no_validation() -> None:
    epochs = [e for e in Session(load("xor")).train(epochs=2) if isinstance(e, EpochMetrics)]
    assert epochs[-1].val_loss is None and epochs[-1].val_accuracy is None
    sine = [e for e in Session(load("sine_lstm")).train(epochs=1) if isinstance(e, EpochMetrics)]
    assert sine[0].val_loss is not None and sine[0].val_accuracy is None


def test_session_accepts_a_program() -> None:
    program = compile_document(load("xor"))
    assert Session(program).program is program


def test_gpu_session_or_clear_error() -> None:
    import engine

    doc = load("xor")
    doc.set_setting("device", "gpu")
    if engine.backend.gpu_unavailable_reason() is not None:
        with pytest.raises(engine.DeviceError):
            Session(doc)
        return
    events = list(Session(doc).train(epochs=2))  # pragma: no cover - needs a GPU
    assert events[-1].reason == "finished"


def test_norm_schedule_widens_when_measuring_is_costly() -> None:
    schedule = NormSchedule(budget=0.05)
    for _ in range(NormSchedule.WINDOW):
        schedule.measured({"a": 1.0}, {}, took=0.0002)
        schedule.step_took(0.0002 + 0.001)  # measuring costs 20% of the step
    assert schedule.every == 4
    assert [s for s in range(10) if schedule.due(s, 10)] == [0, 4, 8, 9]


def test_steps_between_measurements_repeat_the_latest_norms() -> None:
    session = Session(load("digits_mlp"))
    session.norms.auto, session.norms.every = False, 7
    steps = [e for e in session.train(epochs=1) if isinstance(e, StepMetrics)]
    assert steps[1].param_grad_norms is steps[0].param_grad_norms
    assert steps[7].param_grad_norms is not steps[6].param_grad_norms
    assert steps[-1].param_grad_norms is not steps[-2].param_grad_norms  # last step measured


def test_a_split_that_leaves_nothing_names_the_dataset_node() -> None:
    doc = load("xor")
    doc.set_setting("val_split", 0.1)  # 4 samples: no validation sample
    with pytest.raises(GraphError, match=r"node 'xor': .*one part would be empty") as caught:
        Session(doc)
    assert caught.value.node_id == "xor"


def test_batchnorm_running_statistics_are_saved_with_the_weights(tmp_path: Path) -> None:
    """Evaluation uses BatchNorm's running statistics: weights saved after training must carry
    them, or a reloaded model evaluates differently."""
    doc = GraphDocument()
    for node_id, type_id, params in [
        ("data", "dataset", {"name": "spiral"}),
        ("hidden", "linear", {"units": 16}),
        ("norm", "batch_norm1d", {}),
        ("act", "relu", {}),
        ("head", "linear", {"units": 3}),
        ("loss", "cross_entropy_loss", {}),
    ]:
        doc.add_node(type_id, params, node_id=node_id)
    for wire in [
        ("data", "x", "hidden", "x"), ("hidden", "y", "norm", "x"), ("norm", "y", "act", "x"),
        ("act", "y", "head", "x"), ("head", "y", "loss", "logits"), ("data", "y", "loss", "target"),
    ]:  # fmt: skip
        doc.connect(*wire)
    session = Session(doc)
    list(session.train(epochs=3))
    weights = session.weights()
    assert {"norm.running_mean", "norm.running_var"} <= set(weights)
    assert np.any(weights["norm.running_mean"] != 0)
    io.save_weights(weights, tmp_path / "bn.npz")
    fresh = Session(doc)
    fresh.load_weights(io.load_weights(tmp_path / "bn.npz"))
    assert fresh.evaluate()["loss"] == pytest.approx(session.evaluate()["loss"], rel=1e-6)
