"""A matrix product with its weight packed once: the recurrent layers' step products.

A recurrent layer multiplies the same weight by a small batch of states at every time step.
BLAS packs (copies and reorders) the weight on every such call, and the one this project's
NumPy brings may run kernels narrower than the CPU's vectors (a host can pin OpenBLAS to its
AVX2 kernels). Here the weight is packed once per sequence into panels of :data:`PANEL`
columns, ``panels[p, k, j] = w[k, p·PANEL + j]`` (the last panel padded with zeros), and
:func:`packed_product` runs a register-tiled kernel over them that the compiler vectorises for
the CPU it runs on: each tile of :data:`ROWS` batch rows by one panel keeps its sums in
registers across the whole inner dimension. Measured in benchmarks/RESULTS.md.

Layouts follow the recurrent layers' gate-major steps: the input ``x`` is (K, B), a column
per batch element, and the result ``out`` is (N, B), so ``out = w.T @ x``.
"""

from __future__ import annotations

import functools
from typing import Any

import numba
import numpy as np
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload
from numba.np.numpy_support import carray

from engine.kernels.compiler import helper, kernel

__all__ = [
    "CHUNK",
    "PANEL",
    "ROWS",
    "pack",
    "pack_steps",
    "packed_product",
    "packed_product_rows",
    "pays",
    "product",
    "warm_up",
]

#: Columns of the weight per panel: four 512-bit vectors of float32. float64 uses the same
#: width (measured: narrower float64 panels vectorised badly, 4-7x slower than BLAS).
PANEL = 64
#: Terms per chunk of a long sum (see :func:`product`).
CHUNK = 256
#: Batch rows per tile of float32: ROWS x PANEL sums held in registers (half as many rows of
#: float64, whose sums take twice the registers).
ROWS = 4


def _tile_rows(like: Any) -> int:
    """Batch rows per tile for ``like``'s dtype (a constant in compiled code)."""
    return ROWS if like.itemsize == 4 else ROWS // 2


@overload(_tile_rows, inline="always")
def _tile_rows_compiled(like: Any) -> Any:
    rows = ROWS if like.dtype.bitwidth == 32 else ROWS // 2

    def constant(like: Any) -> int:
        return rows

    return constant


@functools.cache
def pays() -> bool:
    """Whether the kernels are compiled for 512-bit vectors (AVX-512), where a tile's sums fit
    in the 32 vector registers. With 256-bit vectors (AVX2: 16 registers) they spill, and the
    kernel measured twice BLAS's time: callers then use BLAS (benchmarks/RESULTS.md)."""
    features = getattr(numba.config, "CPU_FEATURES", None)  # "" for NUMBA_CPU_NAME=generic
    if features is None:  # what Numba compiles for when none are given
        features = binding.get_host_cpu_features().flatten()
    return "+avx512f" in str(features).split(",")


def _stack_block(typingctx: Any, like: Any) -> Any:
    """A (ROWS·PANEL) block of ``like``'s dtype on the stack: with constant indices the
    compiler keeps it in registers (memory from the heap it could not)."""
    dtype = like.dtype

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        element = context.get_value_type(dtype)
        alloca: Any = cgutils.alloca_once
        block = alloca(builder, ir.ArrayType(element, ROWS * PANEL))
        return builder.bitcast(block, ir.PointerType(element))

    pointer: Any = types.CPointer
    return pointer(dtype)(like), codegen


_tile_sums: Any = intrinsic(_stack_block)


@helper
def _tile(
    x: Any,
    panels: Any,
    out: Any,
    span: tuple[int, int],
    p: int,
    i0: int,
    rows: int,
    stored: tuple[int, int],
    by_row: bool,
    add: bool,
) -> None:
    """The sums over ``k`` in ``span`` of the panel ``p`` and the ``rows`` batch rows from
    ``i0``, written (or, ``add``, added) to ``out[p·PANEL + j, i0 + r]`` or, ``by_row``, to
    ``out[i0 + r, p·PANEL + j]``, for the rows ``stored[0] <= r < stored[1]`` (``rows`` and
    ``by_row`` are constants, so every loop here has a constant length but the one over k)."""
    sums = carray(_tile_sums(panels), (ROWS, PANEL))
    for r in range(rows):
        for j in range(PANEL):
            sums[r, j] = 0.0
    for k in range(span[0], span[1]):
        for r in range(rows):
            a = x[k, i0 + r]
            for j in range(PANEL):
                sums[r, j] += a * panels[p, k, j]
    c0 = p * PANEL
    width = min(PANEL, (out.shape[1] if by_row else out.shape[0]) - c0)
    lo, hi = stored
    if by_row and add:
        for r in range(lo, hi):
            for j in range(width):
                out[i0 + r, c0 + j] += sums[r, j]
    elif by_row:
        for r in range(lo, hi):
            for j in range(width):
                out[i0 + r, c0 + j] = sums[r, j]
    elif width == PANEL and lo == 0 and hi == rows:
        for j in range(PANEL):
            for r in range(rows):
                out[c0 + j, i0 + r] = sums[r, j]
    else:
        for j in range(width):
            for r in range(lo, hi):
                out[c0 + j, i0 + r] = sums[r, j]


@helper
def product(x: Any, panels: Any, out: Any, k0: int, by_row: bool, small: bool) -> None:
    """Every tile of ``w[k0:].T @ x[k0:]`` (see :func:`_tile`): :func:`packed_product` for
    kernels that call it inside their own loops. Written as rows (``by_row``, the weight
    gradients' long sums over every step) the sum runs in chunks of :data:`CHUNK` terms, each
    added to the result: float32 rounding then grows with the chunks, not the terms.

    ``small`` (a constant) says whether batches of fewer than a tile's rows may come, done a
    row at a time; without it the kernel is smaller (every inlined tile took about a second to
    compile). The last tile of a batch that does not divide overlaps the one before it and
    stores only its new rows."""
    batch, k1 = x.shape[1], x.shape[0]
    if k0 >= k1:  # an empty sum
        out[:] = 0
        return
    rows = _tile_rows(panels)
    chunk = CHUNK if by_row else k1
    for c0 in range(k0, k1, chunk):
        span, add = (c0, min(c0 + chunk, k1)), c0 > k0
        for p in range(panels.shape[0]):
            if small and batch < rows:
                for i in range(batch):
                    _tile(x, panels, out, span, p, i, 1, (0, 1), by_row, add)
                continue
            for i0 in range(0, batch - rows + 1, rows):
                _tile(x, panels, out, span, p, i0, rows, (0, rows), by_row, add)
            if batch % rows:
                i0 = batch - rows
                _tile(x, panels, out, span, p, i0, rows, (rows - batch % rows, rows), by_row, add)


@kernel
def packed_product(x: Any, panels: Any, out: Any, k0: int) -> None:
    """Write ``out = w[k0:].T @ x[k0:]`` for the weight ``w`` (K, N) that :func:`pack` turned
    into ``panels``; ``x`` is (K, B), ``out`` (N, B), all of one float dtype. Rows of ``x``
    before ``k0`` are left out (a zero initial state's part of a step)."""
    product(x, panels, out, k0, False, True)


@kernel
def packed_product_rows(x: Any, panels: Any, out: Any) -> None:
    """:func:`packed_product` written as rows: ``out = x.T @ w``, (B, N)."""
    product(x, panels, out, 0, True, True)


def pack(w: Any, dtype: Any = None) -> Any:
    """The panels of ``w`` (K, N): a C-contiguous (⌈N/PANEL⌉, K, PANEL) array of ``dtype``
    (default ``w``'s), zero-padded."""
    dtype = np.dtype(dtype or w.dtype)
    if w.T.flags.c_contiguous and w.dtype == dtype:  # a transposed weight: a compiled copy
        return _pack_transposed(w.T)
    k, n = w.shape
    full, rest = divmod(n, PANEL)
    panels = np.empty((full + (rest > 0), k, PANEL), dtype=dtype)
    panels[:full] = w[:, : full * PANEL].reshape(k, full, PANEL).transpose(1, 0, 2)
    if rest:
        panels[full, :, :rest] = w[:, full * PANEL :]
        panels[full, :, rest:] = 0
    return panels


@kernel
def _pack_transposed(wt: Any) -> Any:
    """:func:`pack` of ``wt.T`` for a C-contiguous ``wt`` (N, K), copied in blocks of 16
    columns (NumPy's strided copy of a (256, 1024) weight took about four times as long)."""
    n, k = wt.shape
    out = np.empty(((n + PANEL - 1) // PANEL, k, PANEL), dtype=wt.dtype)
    out[-1] = 0
    for p in range(out.shape[0]):
        for k0 in range(0, k, 16):
            for j in range(min(PANEL, n - p * PANEL)):
                row = wt[p * PANEL + j]
                for c in range(k0, min(k0 + 16, k)):
                    out[p, c, j] = row[c]
    return out


@kernel
def pack_steps(src: Any) -> Any:
    """:func:`pack` of the (T·B, N) matrix whose row ``t·B + b`` is ``src[t, :, b]``, from
    ``src`` (T, N, B): a recurrent layer's per-step gradients (gate-major), packed for the
    weight-gradient product without forming that matrix first. Each panel row is written
    whole from a block of ``src`` that stays in the first-level cache (writing a column of
    the panel at a time took 2.5x as long on gradients no longer in cache)."""
    steps, n, batch = src.shape
    out = np.empty(((n + PANEL - 1) // PANEL, steps * batch, PANEL), dtype=src.dtype)
    out[-1] = 0
    for t in range(steps):
        for p in range(out.shape[0]):
            width = min(PANEL, n - p * PANEL)
            block = src[t, p * PANEL : p * PANEL + width]
            for b in range(batch):
                row = out[p, t * batch + b]
                for j in range(width):
                    row[j] = block[j, b]
    return out


def warm_up() -> None:
    """Run the kernel once per float dtype (loads it from the cache or compiles it)."""
    for dtype in (np.float32, np.float64):
        x = np.zeros((2, 5), dtype)
        packed_product(x, pack(np.zeros((2, 3), dtype)), np.empty((3, 5), dtype), 0)
        pack(np.zeros((3, 2), dtype).T)
        packed_product_rows(x, pack(np.zeros((2, 3), dtype)), np.empty((5, 3), dtype))
        pack_steps(np.zeros((2, 3, 5), dtype))
