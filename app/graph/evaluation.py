"""How good a trained graph is: metrics, confusion matrix, mistakes and predictions on a split.

``evaluate(program, split="val")`` runs the compiled program in evaluation mode over the
validation (or training) split the session trains with and returns an :class:`Evaluation`:

- classification: loss, accuracy, macro F1, the confusion matrix (rows = true class), per-class
  precision/recall/F1 and the mistakes, most confident first, with their index in the split;
- regression: loss, MSE, MAE, R² and the predictions beside the targets (series for sequences);
- language models (a text dataset): loss, next-character accuracy and perplexity.

:func:`predict` feeds inputs through the nodes the prediction depends on (no targets needed);
the "try it" panel and the text sampler use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

import engine
from app.graph.compile import Program, Values
from app.graph.errors import GraphError
from app.graph.scores import (
    ClassScores,
    Mistake,
    class_scores,
    confusion_matrix,
    probabilities,
    ranked_mistakes,
    regression_scores,
)
from app.graph.specs import Role
from engine.backend import to_numpy
from engine.data import DataLoader, Dataset, DatasetError, split

__all__ = ["Evaluation", "Split", "Task", "evaluate", "predict", "split_of", "task_of"]

Task = Literal["classification", "regression", "language"]
Split = Literal["val", "train"]
BATCH = 256


@dataclass
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes
    ----------
    task : {'classification', 'regression', 'language'}
    split : {'val', 'train'}
        The split actually evaluated (``train`` when the graph has no validation split).
    samples : int
        Samples evaluated.
    metrics : dict
        ``loss`` and, by task, ``accuracy``/``macro_f1``; ``mse``/``mae``/``r2``;
        ``accuracy``/``perplexity``.
    classes : list of str
        Class names (classification), the vocabulary (language), else empty.
    confusion : np.ndarray or None
        (C, C) counts, rows = true class (classification only).
    per_class : list of ClassScores
    mistakes : list of Mistake
        Most confident first; ``index`` is the sample's index in the split.
    probs : np.ndarray or None
        (N, C) class probabilities (classification).
    predicted, actual : np.ndarray or None
        Predicted and true class per sample (classification) or the predictions and targets as
        the model gives them (regression; (N, T, F) for sequences).
    dataset : Dataset or None
        The split evaluated, so a viewer can show the samples by index.
    note : str
        Anything the reader should know (e.g. no validation split).
    """

    task: Task
    split: Split
    samples: int
    metrics: dict[str, float]
    classes: list[str] = field(default_factory=list)
    confusion: np.ndarray | None = None
    per_class: list[ClassScores] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    probs: np.ndarray | None = None
    predicted: np.ndarray | None = None
    actual: np.ndarray | None = None
    dataset: Dataset | None = None
    note: str = ""

    @property
    def is_sequence(self) -> bool:
        """Whether regression targets are series over time (N, T, F) with T > 1."""
        return (
            self.task == "regression"
            and self.actual is not None
            and self.actual.ndim == 3
            and self.actual.shape[1] > 1
        )

    def cell_samples(self, true: int, predicted: int) -> list[int]:
        """Indices (in the split) of the samples of class ``true`` predicted as ``predicted``."""
        if self.predicted is None or self.actual is None or self.task != "classification":
            return []
        hits = (self.actual == true) & (self.predicted == predicted)
        return [int(i) for i in np.flatnonzero(hits)]

    def to_json(self) -> dict[str, Any]:
        """Plain data: ``task``, ``split``, ``samples``, ``metrics`` and, for classification,
        ``classes``, ``confusion_matrix`` (rows = true class), ``per_class`` and ``mistakes``."""
        out: dict[str, Any] = {
            "task": self.task,
            "split": self.split,
            "samples": self.samples,
            "metrics": {k: _json_number(v) for k, v in self.metrics.items()},
        }
        if self.task == "classification" and self.confusion is not None:
            out["classes"] = list(self.classes)
            out["confusion_matrix"] = self.confusion.tolist()
            out["per_class"] = [
                {"class": s.name, "precision": s.precision, "recall": s.recall, "f1": s.f1,
                 "support": s.support}
                for s in self.per_class
            ]  # fmt: skip
            out["mistakes"] = [
                {"index": m.index, "true": self.classes[m.true],
                 "predicted": self.classes[m.predicted], "confidence": m.confidence}
                for m in self.mistakes
            ]  # fmt: skip
        if self.note:
            out["note"] = self.note
        return out


def _json_number(value: float) -> float | None:
    """NaN and infinities are not JSON; they become null."""
    return value if math.isfinite(value) else None


def task_of(program: Program) -> Task:
    """What the graph predicts: the Output node's ``task``, else the dataset's."""
    dataset = program.dataset
    task = "auto"
    if program.output_node is not None:
        task = program.nodes[program.output_node].params.get("task", "auto")
    if task == "regression":
        return "regression"
    if dataset is not None and dataset.task == "language":
        return "language"
    if task == "classification" or (dataset is not None and dataset.task == "classification"):
        return "classification"
    return "regression"


def split_of(program: Program, which: Split = "val") -> tuple[Dataset, Split]:
    """The split a session trains (``train``) or validates (``val``) on, as ``Session`` splits.

    Without a validation split (``val_split`` 0) the training set is returned for ``val`` too,
    with ``'train'`` as the split actually used.
    """
    dataset = program.dataset
    if dataset is None:
        raise GraphError("the graph has no Dataset node; add one to evaluate it")
    if not program.settings.val_split:
        return dataset, "train"
    try:
        train_set, val_set = split(dataset, program.settings.val_split, program.settings.seed)
    except DatasetError as error:
        raise GraphError(f"node '{program.data_node}': {error}", program.data_node) from None
    return (val_set, "val") if which == "val" else (train_set, "train")


def evaluate(program: Program, split: Split = "val") -> Evaluation:
    """Run ``program`` (in evaluation mode, without gradients) over a split and score it.

    Raises
    ------
    GraphError
        When the graph has no dataset, no loss, no prediction to read, or predictions that do
        not line up with the targets.
    """
    if split not in ("val", "train"):
        raise GraphError(f"unknown split {split!r}; use 'val' or 'train'")
    dataset, used = split_of(program, split)
    if not program.loss_nodes:
        raise GraphError("the graph has no loss node; add one to evaluate it")
    loss, scores, targets = _collect(program, dataset)
    with np.errstate(all="ignore"):  # a diverged model scores NaN; it does not warn
        return _score(program, dataset, used, split, loss, scores, targets)


def _score(
    program: Program, dataset: Dataset, used: Split, split: Split, loss: float,
    scores: np.ndarray, targets: np.ndarray,
) -> Evaluation:  # fmt: skip
    """The figures of :func:`evaluate` from the collected predictions and targets."""
    task = task_of(program)
    note = "" if used == split else "the graph has no validation split; evaluated on training"
    metrics: dict[str, float] = {"loss": loss}
    if task == "regression":
        metrics.update(regression_scores(scores, targets))
        return Evaluation(task, used, len(dataset), metrics, predicted=scores, actual=targets,
                          dataset=dataset, note=note)  # fmt: skip
    probs, true = _class_rows(scores, targets)
    guess = probs.argmax(axis=-1)
    metrics["accuracy"] = float((guess == true).mean())
    if task == "language":
        metrics["perplexity"] = math.exp(loss) if loss < 700 else math.inf
        vocab = list(dataset.vocab or [])
        return Evaluation(task, used, len(dataset), metrics, classes=vocab, dataset=dataset,
                          note=note)  # fmt: skip
    classes = _class_names(dataset, probs.shape[-1])
    matrix = confusion_matrix(true, guess, len(classes))
    per_class = class_scores(matrix, classes)
    metrics["macro_f1"] = float(np.mean([s.f1 for s in per_class]))
    return Evaluation(
        task, used, len(dataset), metrics, classes, matrix, per_class,
        ranked_mistakes(probs, true), probs, guess, true, dataset, note,
    )  # fmt: skip


def _collect(program: Program, dataset: Dataset) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean loss, every prediction and every target of ``dataset`` (in its order)."""
    loader = DataLoader(dataset, max(program.settings.batch_size, BATCH), shuffle=False)
    loss_sum, seen = 0.0, 0
    scores: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    program.eval()
    try:
        with engine.no_grad(), np.errstate(all="ignore"):
            for x, y in loader:
                values = program.forward(x, y)
                loss_sum += float(to_numpy(program.loss(values).data).sum()) * len(x)
                seen += len(x)
                pred = program.prediction(values)
                if pred is None:
                    raise GraphError("the graph has no Output node or loss input to score")
                scores.append(to_numpy(pred.data))
                targets.append(np.asarray(y))
    finally:
        program.train()
    return loss_sum / max(seen, 1), np.concatenate(scores), np.concatenate(targets)


def _class_rows(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (M, C) and true classes (M,), one row per sample (or position)."""
    if scores.ndim == targets.ndim and scores.shape == targets.shape and scores.shape[-1] == 1:
        targets = targets[..., 0]  # one logit per sample against a (N, 1) 0/1 target
    if scores.ndim != targets.ndim + 1 or scores.shape[:-1] != targets.shape:
        raise GraphError(
            f"cannot score predictions of shape {scores.shape} against targets of shape "
            f"{targets.shape}; the prediction should hold one score per class"
        )
    probs = probabilities(scores).reshape(-1, max(scores.shape[-1], 2))
    true = np.rint(targets).astype(np.int64).ravel()
    if true.size and (true.min() < 0 or true.max() >= probs.shape[-1]):
        raise GraphError(
            f"targets hold class {int(true.max())} but the prediction has {probs.shape[-1]} "
            "classes; give the last layer one unit per class"
        )
    return probs, true


def _class_names(dataset: Dataset, n_classes: int) -> list[str]:
    """Names of the classes: the vocabulary of text data, else the class numbers."""
    if dataset.vocab is not None and len(dataset.vocab) == n_classes:
        return list(dataset.vocab)
    return [str(k) for k in range(n_classes)]


def prediction_source(program: Program) -> tuple[str, str]:
    """The (node, port) whose output is the prediction (Output's input, else the loss's)."""
    for node_id in [program.output_node, *program.loss_nodes]:
        if node_id is not None and program.nodes[node_id].inputs:
            return next(iter(program.nodes[node_id].inputs.values()))
    raise GraphError("the graph has no Output node or loss input to predict with")


def predict(
    program: Program, x: np.ndarray, feeds: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """The prediction for inputs ``x`` (a batch), running only the nodes it depends on.

    The model runs in evaluation mode without gradients; the targets are never read.
    """
    source, port = prediction_source(program)
    needed = _ancestors(program, source)
    values: Values = {}
    dummy = np.zeros(len(x), dtype=np.int64)
    program.eval()
    try:
        with engine.no_grad(), np.errstate(all="ignore"):
            for node_id in program.order:
                if node_id in needed:
                    values[node_id] = program.run_node(node_id, values, (x, dummy), feeds)
    finally:
        program.train()
    return to_numpy(values[source][port].data)


def _ancestors(program: Program, node_id: str) -> set[str]:
    """``node_id`` and every node it reads from, directly or not (loss nodes excluded)."""
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        current = todo.pop()
        if current in seen or program.nodes[current].role is Role.LOSS:
            continue
        seen.add(current)
        todo.extend(src for src, _ in program.nodes[current].inputs.values())
    return seen
