"""Large matrix products split over the engine's threads (:mod:`engine.ops.parallel`).

With more than one engine thread BLAS runs on one thread (``set_num_threads``), and
:func:`matmul` hands the blocks of a large product to the engine's pool instead: a
``(..., K) @ (K, N)`` product by blocks of rows of ``a`` (or of columns of ``b`` when the
result is wider than tall, as a weight gradient ``x.T @ g``), a batched product by blocks of
its leading axis. Each block is one BLAS call writing its own part of a preallocated result;
every element is one whole dot product, never partial sums added afterwards.

OpenBLAS's single-precision kernels round differently depending on the shape of the product
(measured: every row or column block of a (2048, 128) @ (128, 512) product differed in the last
bit from the same rows of the whole, as did one BLAS thread from two), so a split product equals
the one-call product to rounding, not bit for bit; the split is fixed by the shapes and the thread
count, so the same call gives the same bits every time. One thread, products under
:data:`MIN_MACS` multiply-adds, CuPy arrays and broadcast batches take the one-call path,
unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.ops import parallel

__all__ = ["ALIGN", "BLOCK_MACS", "MIN_MACS", "matmul"]

#: Below this many multiply-adds a product is one call (handing a block to the pool and
#: waiting for it cost more than the second core saves; measured in benchmarks/RESULTS.md).
MIN_MACS = 1 << 23
#: About this many multiply-adds per block, so a thread that gets little CPU holds up little.
BLOCK_MACS = 1 << 24
#: Block bounds fall on multiples of this many rows or columns (whole kernel tiles).
ALIGN = 16


def _bounds(length: int, work: int) -> list[int]:
    """Block bounds over ``range(length)`` (:func:`_parts` blocks of ``work``), on multiples of
    :data:`ALIGN` (the last block takes the rest)."""
    tiles = max(1, length // ALIGN)
    parts = min(tiles, _parts(work))
    bounds = [tiles * i // parts * ALIGN for i in range(parts)]
    return [*bounds, length]


def _parts(work: int) -> int:
    """How many blocks ``work`` multiply-adds are cut into: a multiple of the thread count
    (three equal blocks on two threads would take two blocks' time), about :data:`BLOCK_MACS`
    each."""
    threads = parallel.get_num_threads()
    return threads * max(1, work // (BLOCK_MACS * threads))


def _splittable(a: Any, b: Any) -> bool:
    """Whether ``a @ b`` is a product :func:`matmul` may split: NumPy floating arrays of one
    dtype, 2-d or more each, on more than one engine thread."""
    return (
        parallel.active()
        and type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.dtype == b.dtype
        and a.dtype.kind == "f"
        and a.ndim >= 2
        and b.ndim >= 2
    )


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """``a @ b`` (into ``out`` when given, as ``numpy.matmul``), split over the engine's threads
    when the product has at least :data:`MIN_MACS` multiply-adds.

    ``(..., K) @ (K, N)`` is split by blocks of the rows of ``a`` (all leading axes folded) or,
    when ``N`` exceeds that row count, by blocks of the columns of ``b``; a batched product whose
    operands have the same leading axes by blocks of the first axis. Anything else is one call.
    """
    if not _splittable(a, b):
        return a @ b if out is None else _one_call(a, b, out)
    if b.ndim == 2:
        return _matmul_2d(a, b, out)
    if a.shape[:-2] == b.shape[:-2] and a.shape[-1] == b.shape[-2]:
        return _matmul_batched(a, b, out)
    return a @ b if out is None else _one_call(a, b, out)


def _one_call(a: Any, b: Any, out: Any) -> Any:
    """``matmul(a, b, out=out)`` with the operands' own array module."""
    if type(a) is np.ndarray:
        return np.matmul(a, b, out=out)
    from engine.backend import get_array_module  # only CuPy arrays get here

    return get_array_module(a).matmul(a, b, out=out)


def _matmul_2d(a: Any, b: Any, out: Any) -> Any:
    """``(..., K) @ (K, N)`` by row blocks of ``a`` folded to (M, K), or column blocks of ``b``."""
    k, n = b.shape
    rows = a.size // k if k else 0
    shape = (*a.shape[:-1], n)
    if (
        a.shape[-1] != k
        or rows * n * k < MIN_MACS
        or (out is not None and (out.shape != shape or not _foldable(out)))
    ):
        return a @ b if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(shape, dtype=a.dtype)
    a2 = a if a.ndim == 2 else a.reshape(rows, k)
    o2 = out if out.ndim == 2 else out.reshape(rows, n)
    if rows >= n:
        bounds = _bounds(rows, rows * n * k)

        def row_block(i: int) -> None:
            lo, hi = bounds[i], bounds[i + 1]
            np.matmul(a2[lo:hi], b, out=o2[lo:hi])

        parallel.for_parts(row_block, len(bounds) - 1)
    else:
        bounds = _bounds(n, rows * n * k)

        def column_block(i: int) -> None:
            lo, hi = bounds[i], bounds[i + 1]
            np.matmul(a2, b[:, lo:hi], out=o2[:, lo:hi])

        parallel.for_parts(column_block, len(bounds) - 1)
    return out


def _foldable(out: Any) -> bool:
    """Whether ``out``'s leading axes fold into rows without a copy (2-d, or C-contiguous)."""
    return bool(out.ndim == 2 or out.flags.c_contiguous)


def _matmul_batched(a: Any, b: Any, out: Any) -> Any:
    """``(B, ..., M, K) @ (B, ..., K, N)`` by blocks of the first axis."""
    batch = a.shape[0]
    shape = (*a.shape[:-1], b.shape[-1])
    macs = int(np.prod(shape, dtype=np.int64)) * a.shape[-1]
    if batch < 2 or macs < MIN_MACS or (out is not None and out.shape != shape):
        return a @ b if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(shape, dtype=a.dtype)
    parts = min(batch, _parts(macs))
    bounds = [batch * i // parts for i in range(parts + 1)]

    def batch_block(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])

    parallel.for_parts(batch_block, parts)
    return out
