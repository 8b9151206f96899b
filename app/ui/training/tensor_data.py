"""Pure NumPy helpers of the tensor view: statistics, the 2-D picture of a tensor, histograms."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ROWS = 32


@dataclass(frozen=True)
class TensorEntry:
    """One tensor a node offers the tensor view: an output port or a parameter.

    ``value`` and ``grad`` are NumPy arrays or None when not computed yet. ``is_param`` marks
    weights (shown whole) and ``image`` marks data that are pictures (shown as images).
    """

    name: str
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    is_param: bool = False
    image: bool = False


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


def picture(array: np.ndarray, is_param: bool = False, image: bool = False) -> Picture | None:
    """The 2-D view of a tensor, or None for a scalar.

    Parameters are drawn whole (higher ranks folded into columns). For activations the first
    sample is drawn: a picture when ``image`` is set and the sample is square (digits' 64
    pixels become 8×8), its first channel for (N, C, H, W), and for (N, F) features the
    first rows of the batch so the first sample is row 0.
    """
    a = np.asarray(array, dtype=np.float64)
    if a.size <= 1:
        return None
    if a.ndim == 1:
        return Picture(a[None, :], f"1×{a.shape[0]}")
    if is_param:
        flat = a.reshape(a.shape[0], -1)
        return Picture(flat, f"{flat.shape[0]}×{flat.shape[1]} weights")
    first = a[0]
    if first.ndim == 1:
        side = _square_side(first.shape[0])
        if image and side:
            return Picture(
                first.reshape(side, side), f"first sample as {side}×{side} image", is_image=True
            )
        rows = a[:MAX_ROWS]
        return Picture(rows, f"first {rows.shape[0]} samples (rows) × {a.shape[1]} features")
    if first.ndim == 2:
        return Picture(first, f"first sample {first.shape[0]}×{first.shape[1]}", is_image=image)
    plane = first.reshape(-1, first.shape[-2], first.shape[-1])[0]
    return Picture(
        plane, f"first sample, channel 0, {plane.shape[0]}×{plane.shape[1]}", is_image=image
    )


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
