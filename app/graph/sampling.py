"""Text from a graph trained on a text dataset: next-character distributions and sampling.

The model reads the last ``seq_len`` characters (the window it was trained on) and its
prediction at the last position is the distribution of the next character.
"""

from __future__ import annotations

import math

import numpy as np

from app.graph.compile import Program
from app.graph.errors import GraphError
from app.graph.evaluation import predict, task_of
from app.graph.scores import probabilities
from engine.data import Dataset, DatasetError

__all__ = ["MAX_LENGTH", "next_char_probabilities", "sample_text", "text_dataset"]

MAX_LENGTH = 100_000


def text_dataset(program: Program) -> Dataset:
    """The text dataset a language model reads; GraphError for any other graph."""
    dataset = program.dataset
    if dataset is None or dataset.vocab is None or task_of(program) != "language":
        what = "no dataset" if dataset is None else f"the {dataset.name!r} dataset"
        raise GraphError(f"sampling needs a graph trained on a text dataset; this one reads {what}")
    return dataset


def next_char_probabilities(program: Program, context: str) -> np.ndarray:
    """Probabilities of each vocabulary entry (the dataset's order) following ``context``.

    Raises
    ------
    GraphError
        When the graph is not a language model, ``context`` is empty, or holds a character
        outside the vocabulary (the message names it).
    """
    dataset = text_dataset(program)
    ids = _encode(dataset, context)
    return _next(program, dataset, ids)


def sample_text(
    program: Program,
    prompt: str,
    length: int,
    temperature: float = 1.0,
    seed: int | None = 0,
) -> str:
    """``prompt`` followed by ``length`` characters drawn one at a time from the model.

    Parameters
    ----------
    program
        A compiled graph whose dataset is a text dataset (with trained weights loaded).
    prompt
        The text to continue; every character must be in the vocabulary.
    length
        How many characters to add (0 to 100000).
    temperature
        Divides the logits: below 1 more predictable, above 1 more varied (> 0).
    seed
        Seed of the random draws; the same seed and weights give the same text.
    """
    dataset = text_dataset(program)
    if not 0 <= length <= MAX_LENGTH:
        raise GraphError(f"length must be between 0 and {MAX_LENGTH}, got {length}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise GraphError(f"temperature must be a positive number, got {temperature}")
    ids = list(_encode(dataset, prompt))
    rng = np.random.default_rng(seed)
    for _ in range(length):
        probs = _next(program, dataset, np.asarray(ids), temperature)
        ids.append(int(rng.choice(len(probs), p=probs)))
    return prompt + dataset.decode(ids[len(prompt) :])


def _encode(dataset: Dataset, text: str) -> np.ndarray:
    """Token ids of ``text``; a clear error for an empty prompt or an unknown character."""
    if not text:
        raise GraphError("the prompt is empty; give at least one character")
    try:
        return dataset.encode(text)
    except DatasetError as error:
        raise GraphError(str(error)) from None


def _next(
    program: Program, dataset: Dataset, ids: np.ndarray, temperature: float = 1.0
) -> np.ndarray:
    """Next-token probabilities after ``ids`` (the last window of them), tempered."""
    window = dataset.x.shape[1] if dataset.x.ndim > 1 else len(ids)
    x = np.asarray(ids[-window:], dtype=dataset.x.dtype)[None]
    try:
        scores = predict(program, x)
    except GraphError:
        raise
    except Exception as error:  # a model that only takes full windows, say
        raise GraphError(f"the model cannot read {x.shape[1]} characters: {error}") from None
    last = np.asarray(scores, dtype=np.float64).reshape(-1, scores.shape[-1])[-1]
    probs = probabilities(last)
    vocabulary = len(dataset.vocab or ())
    if 0 < vocabulary < probs.size:  # a head wider than the vocabulary (validation warns):
        kept = probs[:vocabulary]  # draw among characters only
        total = kept.sum()
        probs = kept / total if total > 0 else np.full(vocabulary, 1.0 / vocabulary)
    if temperature != 1.0:
        logits = np.log(np.clip(probs, 1e-300, None)) / temperature
        probs = probabilities(logits - logits.max())
    probs = np.clip(probs, 0.0, None)
    return np.asarray(probs / probs.sum())
