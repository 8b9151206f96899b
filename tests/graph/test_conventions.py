"""The engine's conventions in graphs: MSE 'sum' on several outputs, Flatten vs Tensor.flatten."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.graph import io
from app.graph.export import export_python
from app.graph.session import Session, StepMetrics
from tests.graph.test_export import EXAMPLES, run_script


def sine_sum() -> Any:
    doc = io.load(EXAMPLES / "sine_lstm.nodegrad")
    loss = next(n for n in doc.nodes.values() if n.type_id == "mse_loss")
    doc.set_param(loss.id, "reduction", "sum")
    doc.set_setting("epochs", 1)
    return doc, loss.id


def test_a_sum_mse_on_several_outputs_trains_on_the_total() -> None:
    doc, loss_id = sine_sum()
    session = Session(doc)
    x, y = session.train_set.x[:4], session.train_set.y[:4]
    values = session.program.forward(x, y)
    loss = values[loss_id]["loss"]
    assert loss.shape == ()  # a graph's loss node gives a scalar
    pred = session.program.prediction(values)
    assert pred is not None
    expected = ((pred.numpy() - y.reshape(pred.shape)) ** 2).sum()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
    first = next(e for e in session.train() if isinstance(e, StepMetrics))
    assert np.isfinite(first.loss)


def test_the_engine_script_sums_the_per_output_losses_and_matches_the_editor() -> None:
    doc, _ = sine_sum()
    code = export_python(doc, title="sine")
    assert ".sum()" in code
    _, losses = run_script(code, epochs=1)
    session = Session(doc)
    editor = [e.loss for e in session.train(epochs=1) if isinstance(e, StepMetrics)]
    np.testing.assert_allclose(losses, editor, rtol=1e-4)


def test_flatten_layer_keeps_the_batch_and_tensor_flatten_flattens_all() -> None:
    engine = pytest.importorskip("engine")
    x = engine.Tensor(np.zeros((2, 3, 4)))
    assert engine.Flatten()(x).shape == (2, 12)
    assert x.flatten().shape == (24,)
