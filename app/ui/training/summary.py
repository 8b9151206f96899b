"""Status texts of a training run: live progress and the final metrics."""

from __future__ import annotations

from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished
from app.ui.training.sessions import EpochBudget


def progress_text(step: StepMetrics, target_epochs: int, samples_per_s: float) -> str:
    """``epoch 3/20 · step 12/45 · 8,400 samples/s · loss 0.213``."""
    return (
        f"epoch {step.epoch + 1}/{target_epochs} · step {step.step + 1}/"
        f"{step.steps_per_epoch} · {samples_per_s:,.0f} samples/s · loss {step.loss:.4g}"
    )


def final_summary(
    finish: TrainingFinished | None, step: StepMetrics | None, epoch: EpochMetrics | None
) -> str:
    """``Training stopped in epoch 5: train loss 0.17, validation accuracy 96.9%``."""
    if finish is None:
        head = "Training ended"
    elif finish.message.startswith(finish.reason):
        head = f"Training {finish.message}"
    else:
        head = f"Training {finish.reason}" + (f" ({finish.message})" if finish.message else "")
    parts = []
    if epoch is not None:
        parts.append(f"train loss {epoch.train_loss:.4g}")
        if epoch.val_loss is not None:
            parts.append(f"validation loss {epoch.val_loss:.4g}")
        if epoch.val_accuracy is not None:
            parts.append(f"validation accuracy {epoch.val_accuracy:.1%}")
        parts.append(f"{epoch.elapsed:.1f} s")
    elif step is not None:
        parts.append(f"last loss {step.loss:.4g}")
    return f"{head}: " + ", ".join(parts) if parts else head


def epochs_change_text(budget: EpochBudget, step: StepMetrics | None) -> str:
    """What a new epoch count does to the run under way: the run trains one epoch at a time,
    so the count is read when the epoch under way ends.

    ``Epochs set to 5: the run now ends after epoch 5 (the count is read at each epoch's end)``
    """
    current = step.epoch + 1 if step is not None else budget.start + 1
    if budget.target <= current:
        end = f"the run ends when epoch {current} (under way) ends"
    else:
        end = f"the run now ends after epoch {budget.target}"
    return f"Epochs set to {budget.count}: {end} (the count is read at each epoch's end)"
