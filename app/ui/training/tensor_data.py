"""Pure NumPy helpers of the tensor view: statistics, the 2-D picture of a tensor, histograms,
text samples as characters and predictions against their targets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ROWS = 32
TABLE_ROWS = 16  # samples listed in a prediction table
NEWLINE = "↵"


@dataclass(frozen=True)
class TensorEntry:
    """One tensor a node offers the tensor view: an output port or a parameter.

    ``value`` and ``grad`` are NumPy arrays or None when not computed yet. ``is_param`` marks
    weights (shown whole) and ``image`` marks data that are pictures (shown as images).
    ``vocab`` says the values are token indices (or, with ``target``, scores over the tokens)
    and are shown as characters; ``labels`` holds each sample's class (pictures are captioned
    with it); ``target`` makes the entry a prediction shown against these targets.
    """

    name: str
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    is_param: bool = False
    image: bool = False
    vocab: tuple[str, ...] | None = None
    labels: np.ndarray | None = None
    target: np.ndarray | None = None
    heads: bool = False
    tokens: np.ndarray | None = None


@dataclass(frozen=True)
class Picture:
    """A 2-D array to draw as a heatmap and the caption saying what it shows."""

    pixels: np.ndarray
    caption: str
    is_image: bool = False


def stats_text(array: np.ndarray) -> str:
    """Two lines: shape and dtype; min, max, mean, std (and how many values are not finite)."""
    shape = "×".join(str(n) for n in array.shape) or "scalar"
    head = f"shape {shape}   {array.dtype}"
    if array.size == 0:
        return head + "   (empty)"
    values = np.asarray(array, dtype=np.float64)
    finite = values[np.isfinite(values)]
    bad = values.size - finite.size
    if finite.size == 0:
        return head + f"   all {bad} values non-finite"
    text = (
        f"{head}\nmin {finite.min():.3g}   max {finite.max():.3g}   "
        f"mean {finite.mean():.3g}   std {finite.std():.3g}"
    )
    if bad:
        text += f"   {bad} NaN/Inf"
    return text


def _square_side(n: int) -> int | None:
    side = math.isqrt(n)
    return side if side * side == n and side >= 4 else None


def sample_count(array: np.ndarray, is_param: bool = False) -> int:
    """How many samples a batch tensor holds (0 for weights and single vectors)."""
    return 0 if is_param or array.ndim < 2 else int(array.shape[0])


def channel_count(array: np.ndarray, is_param: bool = False) -> int:
    """How many channels each sample has: C of an (N, C, H, W) tensor, else 0."""
    return 0 if is_param or array.ndim != 4 else int(array.shape[1])


def picture(
    array: np.ndarray,
    is_param: bool = False,
    image: bool = False,
    sample: int = 0,
    channel: int = 0,
    channel_name: str = "channel",
) -> Picture | None:
    """The 2-D view of a tensor, or None for a scalar.

    Parameters are drawn whole (higher ranks folded into columns). For activations one sample
    is drawn (``sample``, clamped to the batch): a picture when ``image`` is set and the sample
    is square (digits' 64 pixels become 8×8), channel ``channel`` for (N, C, H, W) (named
    ``channel_name`` in the caption), and for
    (N, F) features the first rows of the batch so the first sample is row 0.
    """
    a = np.asarray(array, dtype=np.float64)
    if a.size <= 1:
        return None
    if a.ndim == 1:
        return Picture(a[None, :], f"1×{a.shape[0]}")
    if is_param:
        flat = a.reshape(a.shape[0], -1)
        return Picture(flat, f"{flat.shape[0]}×{flat.shape[1]} weights")
    index = min(max(sample, 0), a.shape[0] - 1)
    one = a[index]
    if one.ndim == 1:
        side = _square_side(one.shape[0])
        if image and side:
            return Picture(
                one.reshape(side, side), f"sample {index} as {side}×{side} image", is_image=True
            )
        rows = a[:MAX_ROWS]
        return Picture(rows, f"first {rows.shape[0]} samples (rows) × {a.shape[1]} features")
    if one.ndim == 2:
        return Picture(one, f"sample {index}, {one.shape[0]}×{one.shape[1]}", is_image=image)
    planes = one.reshape(-1, one.shape[-2], one.shape[-1])
    c = min(max(channel, 0), planes.shape[0] - 1)
    plane = planes[c]
    return Picture(
        plane,
        f"sample {index}, {channel_name} {c}, {plane.shape[0]}×{plane.shape[1]}",
        is_image=image,
    )


def as_text(indices: np.ndarray, vocab: tuple[str, ...]) -> str:
    """Token indices as the characters they stand for (a newline shows as ``↵``; an index
    outside the vocabulary as ``?``)."""
    chars = [vocab[i] if 0 <= i < len(vocab) else "?" for i in np.asarray(indices).ravel()]
    return "".join(chars).replace("\n", NEWLINE)


def token_labels(indices: np.ndarray, vocab: tuple[str, ...]) -> list[str]:
    """One readable label per token: its character, a newline as ``↵``, a space as ``␣``."""
    text = as_text(indices, vocab)
    return ["␣" if c == " " else c for c in text]


def is_token_array(array: np.ndarray) -> bool:
    """Whether an array holds integer token indices."""
    return np.issubdtype(np.asarray(array).dtype, np.integer)


def sample_text(entry: TensorEntry, array: np.ndarray, sample: int) -> str | None:
    """The text to show for one sample of an entry, or None when it is not shown as text.

    Token indices read as characters; a prediction reads as predicted against target (the
    selected sample of a sequence model, a table of samples for a classifier or regression).
    """
    if entry.target is not None:
        return prediction_text(array, entry.target, entry.vocab, sample)
    if entry.vocab is None or not is_token_array(array) or array.ndim < 1:
        return None
    row = array[min(max(sample, 0), array.shape[0] - 1)] if array.ndim > 1 else array
    return f"sample {sample}:\n{as_text(row, entry.vocab)}"


def prediction_text(
    pred: np.ndarray, target: np.ndarray, vocab: tuple[str, ...] | None, sample: int = 0
) -> str:
    """A prediction against its target in words.

    Scores over classes (N, C) with integer targets (N,) list each sample's predicted class
    (its softmax probability) and target, marking misses, with the batch accuracy; scores over
    tokens (N, T, V) with targets (N, T) read as two lines of characters for sample ``sample``;
    anything else (regression) lists predicted and target values side by side.
    """
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target)
    if is_token_array(target) and pred.ndim == target.ndim + 1 and pred.shape[:-1] == target.shape:
        guess = pred.argmax(axis=-1)
        head = f"accuracy on this batch: {int((guess == target).sum())}/{target.size}"
        if target.ndim >= 2:  # sequences: the chosen sample, token by token
            i = min(max(sample, 0), target.shape[0] - 1)
            return f"{head}\nsample {i}\n" + _sequence_pair(guess[i], target[i], vocab)
        return head + "\n" + _class_table(_softmax(pred), guess, target, vocab)
    flat_p = pred.reshape(pred.shape[0], -1) if pred.ndim else pred.reshape(1, 1)
    flat_t = np.asarray(target, dtype=np.float64).reshape(flat_p.shape[0], -1)
    lines = ["sample  predicted    target"]
    for i in range(min(flat_p.shape[0], TABLE_ROWS)):
        lines.append(f"{i:>6}  {_numbers(flat_p[i]):>9}    {_numbers(flat_t[i])}")
    return "\n".join(lines)


def _sequence_pair(guess: np.ndarray, target: np.ndarray, vocab: tuple[str, ...] | None) -> str:
    if vocab is not None:
        return f"predicted: {as_text(guess, vocab)}\ntarget:    {as_text(target, vocab)}"
    return f"predicted: {guess.tolist()}\ntarget:    {target.tolist()}"


def _class_table(
    probs: np.ndarray, guess: np.ndarray, target: np.ndarray, vocab: tuple[str, ...] | None
) -> str:
    lines = ["sample  predicted (p)    target"]
    for i in range(min(len(target), TABLE_ROWS)):
        said, wanted = _class_name(int(guess[i]), vocab), _class_name(int(target[i]), vocab)
        mark = "" if guess[i] == target[i] else "  ✗"
        lines.append(f"{i:>6}  {said:>9} ({probs[i, guess[i]]:.2f})  {wanted:>6}{mark}")
    return "\n".join(lines)


def _numbers(row: np.ndarray) -> str:
    return ", ".join(f"{v:.3g}" for v in row[:4]) + (", …" if row.size > 4 else "")


def _class_name(index: int, vocab: tuple[str, ...] | None) -> str:
    if vocab is not None and 0 <= index < len(vocab):
        return repr(vocab[index])
    return str(index)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def histogram(array: np.ndarray, bins: int = 40) -> tuple[np.ndarray, np.ndarray] | None:
    """Bin edges and counts of the finite values, or None when there are none."""
    values = np.asarray(array, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return edges, counts


def colour_levels(pixels: np.ndarray, symmetric: bool) -> tuple[float, float]:
    """Colour-bar limits: the finite range, symmetric about 0 for gradients."""
    finite = pixels[np.isfinite(pixels)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if symmetric:
        bound = max(abs(lo), abs(hi)) or 1.0
        return -bound, bound
    if lo == hi:
        return lo - 0.5, hi + 0.5
    return lo, hi
