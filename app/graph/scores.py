"""Figures of merit computed from predictions and targets, as plain NumPy functions.

Nothing here runs a model: :mod:`app.graph.evaluation` collects the predictions and calls these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ClassScores",
    "Mistake",
    "class_scores",
    "confusion_matrix",
    "probabilities",
    "ranked_mistakes",
    "regression_scores",
]


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one class; ``support`` is how many samples truly are it."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Mistake:
    """One wrongly classified sample: its index in the split, the classes and the confidence.

    ``confidence`` is the probability the model gave to the class it predicted.
    """

    index: int
    true: int
    predicted: int
    confidence: float


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs; rows are the true class.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    """
    true = np.asarray(true, dtype=np.int64).ravel()
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def class_scores(matrix: np.ndarray, names: list[str]) -> list[ClassScores]:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined).

    Examples
    --------
    >>> s = class_scores(np.array([[3, 1], [0, 2]]), ["a", "b"])
    >>> [(c.name, c.precision, c.recall, round(c.f1, 3), c.support) for c in s]
    [('a', 1.0, 0.75, 0.857, 4), ('b', 0.6666666666666666, 1.0, 0.8, 2)]
    """
    scores = []
    for k, name in enumerate(names):
        hits = float(matrix[k, k])
        predicted, actual = float(matrix[:, k].sum()), float(matrix[k, :].sum())
        precision = hits / predicted if predicted else 0.0
        recall = hits / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(ClassScores(name, precision, recall, f1, int(actual)))
    return scores


def probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities along the last axis from logits (or from probabilities as they are).

    One column is read as the logit of class 1 (binary classification) and becomes two columns.
    Rows already in [0, 1] that sum to 1 are kept as they are (a graph ending in Softmax).

    Examples
    --------
    >>> probabilities(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    >>> probabilities(np.array([[0.0]])).tolist()
    [[0.5, 0.5]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[-1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-scores))
        return np.concatenate([1.0 - p1, p1], axis=-1)
    if scores.min() >= 0.0 and scores.max() <= 1.0 and np.allclose(scores.sum(axis=-1), 1.0):
        return scores
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


def ranked_mistakes(probs: np.ndarray, true: np.ndarray) -> list[Mistake]:
    """The wrongly classified rows of ``probs`` (N, C), most confident mistake first.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> [(m.index, m.predicted, m.confidence) for m in ranked_mistakes(p, np.array([1, 0, 0]))]
    [(0, 0, 0.9), (2, 1, 0.8), (1, 1, 0.6)]
    """
    predicted = probs.argmax(axis=-1)
    confidence = probs.max(axis=-1)
    wrong = np.flatnonzero(predicted != true)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    return [Mistake(int(i), int(true[i]), int(predicted[i]), float(confidence[i])) for i in order]


def regression_scores(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Mean squared error, mean absolute error and R² over every element.

    R² is 1 - SS_res / SS_tot (NaN when the targets are all equal).

    Examples
    --------
    >>> s = regression_scores(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0]))
    >>> s["mse"], s["mae"], round(s["r2"], 4)
    (0.6666666666666666, 0.6666666666666666, 0.75)
    """
    predicted = np.asarray(predicted, dtype=np.float64).ravel()
    actual = np.asarray(actual, dtype=np.float64).ravel()
    if predicted.shape != actual.shape:
        raise ValueError(
            f"predictions ({predicted.size} values) and targets ({actual.size}) do not match"
        )
    error = predicted - actual
    total = float(((actual - actual.mean()) ** 2).sum())
    residual = float((error**2).sum())
    return {
        "mse": float((error**2).mean()),
        "mae": float(np.abs(error).mean()),
        "r2": 1.0 - residual / total if total else float("nan"),
    }
