"""A batch of the worker's metrics reaches the plots as one block of steps, with each epoch's
validation point at the step the epoch ended on and each node's gradient norms at their steps."""

from __future__ import annotations

import numpy as np

from app.graph.metrics import EpochMetrics, StepMetrics


def step(k: int, loss: float, norms: dict[str, float]) -> StepMetrics:
    return StepMetrics(
        epoch=0, step=k, steps_per_epoch=2, loss=loss,
        output_grad_norms=dict(norms), param_grad_norms={"dense1": 10 * loss},
        samples_per_s=100.0,
    )  # fmt: skip


def epoch(k: int, val_loss: float, accuracy: float) -> EpochMetrics:
    return EpochMetrics(
        epoch=k, train_loss=0.0, val_loss=val_loss, val_accuracy=accuracy, elapsed=0.0
    )


def test_a_batch_places_steps_epochs_and_norms(digits) -> None:
    live, loss, grads = digits.training.live, digits.training.loss_plot, digits.training.grad_plot
    live.clear()
    live.add([
        step(0, 2.0, {"relu1": 1.0}), step(1, 1.5, {"relu1": 2.0, "logits": 5.0}),
        epoch(0, 1.4, 0.5),
        step(0, 1.0, {"relu1": 3.0}), epoch(1, 0.9, 0.75),
    ])  # fmt: skip
    live.add([step(1, 0.5, {}), step(0, 0.25, {"logits": 4.0}), epoch(2, 0.3, 0.9)])
    assert live.global_step == 5
    np.testing.assert_array_equal(loss.raw.x, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(loss.raw.y, [2.0, 1.5, 1.0, 0.5, 0.25])
    np.testing.assert_array_equal(loss.val_loss.x, [2, 3, 5])  # each epoch at its last step
    np.testing.assert_array_equal(loss.val_loss.y, [1.4, 0.9, 0.3])
    np.testing.assert_array_equal(loss.val_accuracy.y, [0.5, 0.75, 0.9])
    outputs = grads._series["outputs"]
    np.testing.assert_array_equal(outputs["relu1"].x, [1, 2, 3])
    np.testing.assert_array_equal(outputs["relu1"].y, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(outputs["logits"].x, [2, 5])  # only where it was measured
    np.testing.assert_array_equal(outputs["logits"].y, [5.0, 4.0])
    params = grads._series["parameters"]["dense1"]
    np.testing.assert_array_equal(params.x, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(params.y, [20.0, 15.0, 10.0, 5.0, 2.5])
    assert live.last_epoch is not None and live.last_epoch.epoch == 2
    assert live.last_step is not None and live.last_step.loss == 0.25
