"""Status texts of a training run: live progress and the final metrics."""

from __future__ import annotations

from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished


def progress_text(step: StepMetrics, target_epochs: int, samples_per_s: float) -> str:
    """``epoch 3/20 · step 12/45 · 8,400 samples/s · loss 0.213``."""
    return (f"epoch {step.epoch + 1}/{target_epochs} · step {step.step + 1}/"
            f"{step.steps_per_epoch} · {samples_per_s:,.0f} samples/s · loss {step.loss:.4g}")


def final_summary(finish: TrainingFinished | None, step: StepMetrics | None,
                  epoch: EpochMetrics | None) -> str:
    """One line on how a run ended and its last metrics."""
    reason = finish.reason if finish is not None else "ended"
    head = {"finished": "Training finished", "stopped": "Training stopped"}.get(
        reason, f"Training {reason}")
    parts = [finish.message] if finish is not None and finish.message else []
    if epoch is not None:
        parts.append(f"train loss {epoch.train_loss:.4g}")
        if epoch.val_loss is not None:
            parts.append(f"validation loss {epoch.val_loss:.4g}")
        if epoch.val_accuracy is not None:
            parts.append(f"validation accuracy {epoch.val_accuracy:.1%}")
    elif step is not None:
        parts.append(f"last loss {step.loss:.4g}")
    elapsed = (epoch.elapsed if epoch is not None else step.elapsed if step is not None
               else None)
    if elapsed is not None and epoch is None:
        parts.append(f"{elapsed:.1f} s")
    return f"{head}: " + ", ".join(parts) if parts else head
