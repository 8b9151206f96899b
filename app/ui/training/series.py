"""A growable pair of NumPy arrays: the storage behind every live curve."""

from __future__ import annotations

import numpy as np


class Series:
    """Points ``(x, y)`` appended one by one or in blocks, kept for the whole run.

    Capacity doubles when full, so appending is amortised O(1) and a 100,000-point run costs
    a handful of reallocations. ``x`` and ``y`` are views of the filled part.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        """The x values appended so far (a view)."""
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        """The y values appended so far (a view)."""
        return self._y[: self._n]

    def append(self, x: float, y: float) -> None:
        """Add one point."""
        self._reserve(self._n + 1)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Add a block of points (two arrays of equal length)."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        if xs.shape != ys.shape:
            raise ValueError(f"x has shape {xs.shape} but y has shape {ys.shape}")
        end = self._n + len(xs)
        self._reserve(end)
        self._x[self._n : end] = xs
        self._y[self._n : end] = ys
        self._n = end

    def clear(self) -> None:
        """Forget every point (the capacity is kept)."""
        self._n = 0

    def last(self) -> tuple[float, float] | None:
        """The most recent point, or None when empty."""
        if self._n == 0:
            return None
        return float(self._x[self._n - 1]), float(self._y[self._n - 1])

    def _reserve(self, size: int) -> None:
        if size <= len(self._x):
            return
        capacity = max(size, 2 * len(self._x))
        self._x = np.resize(self._x, capacity)
        self._y = np.resize(self._y, capacity)
