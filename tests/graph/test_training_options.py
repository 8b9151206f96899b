"""Training settings beyond the basics: AdamW, weight decay, gradient clipping, learning-rate
schedules with warm-up and early stopping, in the session and in the engine export."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import engine
from app.graph import io
from app.graph.document import TRAINING_PARAMS, GraphDocument, TrainingSettings
from app.graph.errors import GraphError
from app.graph.export import export_python
from app.graph.session import EpochMetrics, Session, TrainingFinished

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def spiral(**settings: object) -> GraphDocument:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


def test_every_setting_has_a_spec_with_help_and_defaults_agree() -> None:
    names = [p.name for p in TRAINING_PARAMS]
    assert set(names) == set(TrainingSettings().to_dict())
    defaults = TrainingSettings()
    for p in TRAINING_PARAMS:
        assert p.help, p.name
        assert getattr(defaults, p.name) == p.default, p.name
    assert "adamw" in next(p for p in TRAINING_PARAMS if p.name == "optimizer").choices


def test_optimizer_settings_reach_the_engine() -> None:
    session = Session(spiral(optimizer="adamw", weight_decay=0.05))
    assert isinstance(session.optimizer, engine.AdamW)
    assert session.optimizer.weight_decay == 0.05
    sgd = Session(spiral(optimizer="sgd", momentum=0.5, weight_decay=0.01)).optimizer
    assert isinstance(sgd, engine.SGD) and (sgd.momentum, sgd.weight_decay) == (0.5, 0.01)
    adam = Session(spiral(optimizer="adam", weight_decay=0.02)).optimizer
    assert type(adam) is engine.Adam and adam.weight_decay == 0.02


@pytest.mark.parametrize(
    ("settings", "rates"),
    [
        ({}, [0.01] * 4),
        ({"warmup_epochs": 2}, [0.01 / 3, 0.02 / 3, 0.01, 0.01]),
        ({"lr_schedule": "step", "lr_step_size": 2, "lr_gamma": 0.5}, [0.01, 0.01, 0.005, 0.005]),
        (
            {"lr_schedule": "cosine", "lr_min": 0.001, "warmup_epochs": 1},
            [0.005, 0.01, 0.001 + 0.009 * (1 + math.cos(math.pi / 3)) / 2, None],
        ),
    ],
    ids=["constant", "constant_warmup", "step", "cosine_warmup"],
)
def test_learning_rate_follows_the_schedule_per_epoch(settings: dict, rates: list) -> None:
    session = Session(spiral(learning_rate=0.01, epochs=4, **settings))
    seen: list[float] = []
    for event in session.train():
        if not isinstance(event, TrainingFinished) and getattr(event, "step", None) == 0:
            seen.append(session.optimizer.alpha)  # the rate of each epoch's first step
    for got, want in zip(seen, rates, strict=True):
        if want is not None:
            assert got == pytest.approx(want, rel=1e-12)


def test_a_new_learning_rate_keeps_the_schedule_shape() -> None:
    session = Session(spiral(learning_rate=0.01, warmup_epochs=1))
    assert session.optimizer.alpha == pytest.approx(0.005)
    session.set_learning_rate(0.1)
    run = session.train(epochs=1)
    next(run)
    assert session.optimizer.alpha == pytest.approx(0.05)  # still half-way through warm-up


def test_gradient_clipping_bounds_the_update() -> None:
    """With SGD and no momentum a step moves the weights by exactly lr * clipped gradient."""
    doc = spiral(optimizer="sgd", momentum=0.0, learning_rate=1.0, grad_clip=1e-3)
    session = Session(doc)
    before = {k: v.copy() for k, v in session.weights().items()}
    run = session.train(epochs=1)
    next(run)
    after = session.weights()
    moved = math.sqrt(sum(float(((after[k] - before[k]) ** 2).sum()) for k in before))
    assert moved == pytest.approx(1e-3, rel=1e-3)


def test_early_stopping_ends_when_validation_loss_stalls() -> None:
    session = Session(spiral(learning_rate=1e-7, early_stopping=2, epochs=50))
    session.best_val_loss = -1.0  # nothing can improve on it: stops after two epochs
    events = list(session.train())
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    assert len(epochs) == 2
    assert events[-1].reason == "finished"
    assert "stopped early after epoch 2" in events[-1].message
    assert "not improved for 2 epochs" in events[-1].message


def test_early_stopping_keeps_going_while_validation_improves() -> None:
    session = Session(spiral(early_stopping=3, epochs=5))
    events = list(session.train())
    assert events[-1] == TrainingFinished("finished", message="trained 5 epochs")


def test_early_stopping_without_validation_split_is_a_clear_error() -> None:
    with pytest.raises(GraphError, match="early stopping watches the validation loss"):
        Session(spiral(early_stopping=3, val_split=0.0))


def test_engine_export_carries_the_settings(tmp_path: Path) -> None:
    doc = spiral(
        optimizer="adamw",
        weight_decay=0.05,
        grad_clip=0.5,
        lr_schedule="cosine",
        lr_min=0.001,
        warmup_epochs=2,
        early_stopping=3,
        epochs=6,
    )
    code = export_python(doc, "spiral")
    assert "AdamW(model.parameters(), alpha=LEARNING_RATE, weight_decay=WEIGHT_DECAY)" in code
    assert "clip_grad_norm(model.parameters(), GRAD_CLIP)" in code
    assert "CosineAnnealingLR(optimizer, EPOCHS - WARMUP_EPOCHS, LR_MIN, warmup=WARMUP_EPOCHS)" in (
        code
    )
    assert "EARLY_STOPPING = 3" in code
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)  # the script we just generated
    _, losses = namespace["train"](6)  # type: ignore[operator]
    assert len(losses) > 0 and np.isfinite(losses).all()


def test_default_settings_export_unchanged_lines() -> None:
    code = export_python(spiral(), "spiral")
    for word in ("WEIGHT_DECAY", "GRAD_CLIP", "scheduler", "EARLY_STOPPING"):
        assert word not in code


def test_torch_export_carries_the_settings() -> None:
    pytest.importorskip("torch")
    from app.graph.export import export_torch

    doc = spiral(
        optimizer="sgd", momentum=0.9, weight_decay=0.01, grad_clip=1.0, lr_schedule="step",
        lr_step_size=2, warmup_epochs=1, early_stopping=2, epochs=4,
    )  # fmt: skip
    code = export_torch(doc, "spiral")
    assert "schedules.SequentialLR(optimizer, [warmup, main], [WARMUP_EPOCHS])" in code
    assert "torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)" in code
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)  # the script we just generated
    _, losses = namespace["train"](4)  # type: ignore[operator]
    assert len(losses) > 0 and np.isfinite(losses).all()
