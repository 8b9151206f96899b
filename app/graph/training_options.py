"""The training settings beyond the basics: weight decay, gradient clipping, the learning-rate
schedule and early stopping (their :class:`ParamSpec` declarations, shown by the inspector), and
how a session builds them from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import engine
from app.graph.specs import ParamSpec, ParamType

if TYPE_CHECKING:
    from app.graph.document import TrainingSettings

__all__ = ["OPTIMIZER_OPTIONS", "STOPPING_OPTIONS", "make_schedule"]

_STEP, _COSINE = ("step",), ("cosine",)

OPTIMIZER_OPTIONS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "weight_decay",
        ParamType.FLOAT,
        0.0,
        minimum=0.0,
        maximum=1.0,
        help="shrinks the weights every step: an L2 term in the gradient for SGD and Adam, "
        "decoupled for AdamW (PyTorch's weight_decay; AdamW's usual value is 0.01); 0: off",
    ),
    ParamSpec(
        "grad_clip",
        ParamType.FLOAT,
        0.0,
        minimum=0.0,
        maximum=1e6,
        help="scale the gradients down when their joint L2 norm exceeds this (PyTorch's "
        "clip_grad_norm_); 0: off",
        label="Gradient clipping",
    ),
    ParamSpec(
        "lr_schedule",
        ParamType.CHOICE,
        "constant",
        choices=("constant", "step", "cosine"),
        help="how the learning rate changes per epoch: constant, multiplied by a factor every "
        "few epochs (StepLR), or along a cosine down to a minimum at the last epoch "
        "(CosineAnnealingLR)",
        label="LR schedule",
    ),
    ParamSpec(
        "lr_step_size",
        ParamType.INT,
        10,
        minimum=1,
        maximum=100_000,
        help="epochs between two drops of the learning rate",
        when=("lr_schedule", _STEP),
        label="LR step (epochs)",
    ),
    ParamSpec(
        "lr_gamma",
        ParamType.FLOAT,
        0.1,
        minimum=1e-6,
        maximum=1.0,
        help="factor the learning rate is multiplied by at each drop",
        when=("lr_schedule", _STEP),
        label="LR step factor",
    ),
    ParamSpec(
        "lr_min",
        ParamType.FLOAT,
        0.0,
        minimum=0.0,
        maximum=10.0,
        help="the learning rate the cosine comes down to at the end of training",
        when=("lr_schedule", _COSINE),
        label="LR minimum",
    ),
    ParamSpec(
        "warmup_epochs",
        ParamType.INT,
        0,
        minimum=0,
        maximum=100_000,
        help="epochs of linear warm-up before the schedule: the rate climbs from "
        "learning_rate / (n + 1) to learning_rate; 0: none",
        label="Warm-up epochs",
    ),
)

STOPPING_OPTIONS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "early_stopping",
        ParamType.INT,
        0,
        minimum=0,
        maximum=100_000,
        help="stop when the validation loss has not improved for this many epochs (needs a "
        "validation split; the last weights are kept); 0: train every epoch",
        label="Early stopping patience",
    ),
)


def make_schedule(
    optimizer: engine.optim.Optimizer, settings: TrainingSettings
) -> engine.LRScheduler | None:
    """The per-epoch learning-rate schedule the settings ask for (None: constant, no warm-up).

    The cosine comes down to ``lr_min`` at the end of training: ``T_max`` is the number of
    epochs after the warm-up.
    """
    warmup = settings.warmup_epochs
    if settings.lr_schedule == "step":
        return engine.StepLR(optimizer, settings.lr_step_size, settings.lr_gamma, warmup=warmup)
    if settings.lr_schedule == "cosine":
        t_max = max(settings.epochs - warmup, 1)
        return engine.CosineAnnealingLR(optimizer, t_max, settings.lr_min, warmup=warmup)
    if warmup:
        return engine.LinearLR(optimizer, 1.0 / (warmup + 1), 1.0, warmup)
    return None
