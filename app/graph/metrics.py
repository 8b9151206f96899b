"""The events a training run yields: one per step, one per epoch, one at the end.

They are frozen dataclasses holding plain Python numbers, so a worker thread can hand them to the
user interface as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FinishReason = Literal["finished", "stopped", "nan"]


@dataclass(frozen=True)
class StepMetrics:
    """What one optimisation step measured.

    Attributes
    ----------
    epoch, step:
        Zero-based epoch and step within the epoch.
    steps_per_epoch:
        Number of batches in one epoch.
    loss:
        The batch's training loss (sum of every loss node).
    output_grad_norms:
        Node id -> L2 norm of the gradient that reached the node's outputs.
    param_grad_norms:
        Node id -> L2 norm of the gradient of the node's parameters (nodes with parameters only).
    samples_per_s:
        Throughput of this step.
    elapsed:
        Seconds since training started.
    """

    epoch: int
    step: int
    steps_per_epoch: int
    loss: float
    output_grad_norms: dict[str, float] = field(default_factory=dict)
    param_grad_norms: dict[str, float] = field(default_factory=dict)
    samples_per_s: float = 0.0
    elapsed: float = 0.0


@dataclass(frozen=True)
class EpochMetrics:
    """What one epoch measured.

    ``val_loss`` is None without a validation split; ``val_accuracy`` is None when accuracy has
    no meaning (regression, or no validation split).
    """

    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    elapsed: float


@dataclass(frozen=True)
class TrainingFinished:
    """The last event of a run: why it ended and, for ``'nan'``, the node at fault."""

    reason: FinishReason
    node_id: str | None = None
    message: str = ""


Event = StepMetrics | EpochMetrics | TrainingFinished


def trained_message(epochs: int) -> str:
    """The message of a run that finished: ``trained 1 epoch``, ``trained 15 epochs``."""
    return f"trained {epochs} epoch" + ("" if epochs == 1 else "s")
