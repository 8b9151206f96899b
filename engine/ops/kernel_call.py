"""Calling a compiled element-wise kernel (:mod:`engine.kernels`) on NumPy arrays.

A kernel takes flat contiguous arrays of one float dtype, inputs then outputs. :func:`elementwise`
makes such views (copying only what is not already contiguous and of the working dtype: float16
is computed in float32), allocates the outputs and, for large work on more than one engine
thread, runs the kernel on blocks of elements at once (kernels release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.ops.parallel import for_rows

__all__ = ["elementwise", "working_dtype"]


def working_dtype(dtype: Any) -> Any:
    """The dtype a kernel computes in for arrays of ``dtype`` (float64 stays, the rest float32)."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def elementwise(
    kernel: Callable[..., None], *inputs: np.ndarray, outputs: int = 1
) -> list[np.ndarray]:
    """``kernel(*inputs, *outputs)`` element by element over arrays of the first input's shape;
    the outputs come back in the first input's dtype."""
    dtype = inputs[0].dtype
    work = working_dtype(dtype)
    shape = inputs[0].shape
    arrays = [np.ascontiguousarray(x, dtype=work) for x in inputs]
    results = [np.empty(shape, work) for _ in range(outputs)]
    flat = [a.reshape(-1) for a in (*arrays, *results)]
    size = flat[0].size

    def block(lo: int, hi: int) -> None:
        kernel(*(f[lo:hi] for f in flat))

    for_rows(block, size, size)
    if work != dtype:
        return [r.astype(dtype) for r in results]
    return results
