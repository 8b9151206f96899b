"""The LSTM sequence layer's steps: the cell kernels' dispatch (CPU or GPU), the step
product, and the batch parts a recurrence is split into
(:class:`engine.nn.lstm_sequence_fn.LSTMSequenceFn` and
:class:`engine.nn.lstm_embedded.EmbeddedLSTMFn`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import kernels
from engine.backend import get_array_module
from engine.nn import lstm_cuda
from engine.ops import parallel
from engine.ops.gemm import matmul

__all__ = [
    "MIN_PART_ROWS",
    "StepSums",
    "backward_steps",
    "batch_parts",
    "by_gate",
    "forward_steps",
    "from_parts",
    "in_parts",
    "lstm_cell",
    "lstm_cell_backward",
    "packed_steps",
    "step_product",
    "step_weight",
]

#: The fewest batch rows a part of a recurrence gets (two of the product kernel's tiles).
MIN_PART_ROWS = 8


def lstm_cell(xp: Any, a: Any, c_prev: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """Turn the pre-activations ``a`` (4H, B) into gate activations in place and write the new
    cell state ``c``, ``tanh(c)`` and hidden state ``h`` (each (H, B)) into the given arrays.

    The layout is gate-major (features by batch), so every gate is one contiguous block. On the
    CPU one compiled kernel does the step (:mod:`engine.kernels.recurrent`: the g rows of ``a``
    arrive doubled); on a GPU one CuPy kernel (:mod:`engine.nn.lstm_cuda`: the f, i, o rows
    arrive halved). :func:`step_weight` scales the rows for each.
    """
    if xp is not np:
        lstm_cuda.cell_forward(xp, a, c_prev, c, tanh_c, h)
        return
    kernels.recurrent.lstm_forward(*(v.reshape(-1) for v in (a, c_prev, c, tanh_c, h)))


def lstm_cell_backward(
    xp: Any, a: Any, c_prev: Any, tanh_c: Any, dh_out: Any, dh: Any, dc: Any, d: Any
) -> None:
    """Write the pre-activation gradients ``d`` (4H, B) of one step; update ``dc`` (H, B) in
    place to the gradient reaching the previous cell state.

    ``a`` holds the step's gate activations (f, i, o sigmoids, g tanh); the gradient reaching
    ``h`` is ``dh_out`` (from the step's output) plus ``dh`` (from the next step). One fused
    kernel does the step (:mod:`engine.kernels.recurrent` on the CPU, :mod:`engine.nn.lstm_cuda`
    on a GPU).
    """
    if xp is not np:
        dh += dh_out
        lstm_cuda.cell_backward(xp, a, c_prev, tanh_c, dh, dc, d)
        return
    arrays = (a, c_prev, tanh_c, dh_out, dh, dc, d)
    kernels.recurrent.lstm_backward(*(v.reshape(-1) for v in arrays))


def step_weight(xp: Any, w_ih: Any, b: Any, w_hh: Any, dtype: Any) -> Any:
    """Return the step product's weight ``[w_hh.T, w_ih.T, b]`` (4H, H+F+1), its g rows doubled
    for the CPU's kernel, its f, i, o rows halved for the GPU's (see :func:`lstm_cell`).

    It is the transpose of a (H+F+1, 4H) block whose rows are padded by 16 elements: with a
    power-of-two row stride (4H = 1024) OpenBLAS's small-batch product ran about 18% slower
    (cache-set conflicts). Filling it copies whole rows, so it costs next to nothing.
    """
    n, n_in = w_hh.shape[0], w_ih.shape[0]
    rows = xp.empty((n + n_in + 1, 4 * n + 16), dtype=dtype)[:, : 4 * n]
    rows[:n] = w_hh
    rows[n : n + n_in] = w_ih
    rows[-1] = b
    if xp is np:
        rows[:, 3 * n :] *= 2.0
    else:
        rows[:, : 3 * n] *= 0.5
    return rows.T


def step_product(weight: Any, x: Any, out: Any, k0: int) -> None:
    """Write ``out = weight[:, k0:] @ x[k0:]`` with one BLAS call (or CuPy's): one weight
    (N, K) times a small batch ``x`` (K, B) at every time step. Rows of ``x`` before ``k0`` are
    left out (a zero initial state's part)."""
    matmul(weight[:, k0:], x[k0:], out=out)


def packed_steps(xp: Any, rows: int) -> bool:
    """Whether a recurrence over batch parts of ``rows`` rows runs as the compiled sequence
    kernels on a packed step weight (:func:`engine.kernels.recurrent.lstm_steps_forward`): on a
    CPU with 512-bit vectors (:func:`engine.kernels.panels.pays`), for parts of at least a
    tile's rows (a smaller batch, as in sampling one sequence, is a few microseconds a step on
    BLAS); elsewhere each step is a BLAS call and a cell kernel."""
    return xp is np and rows >= kernels.panels.ROWS and kernels.panels.pays()


def forward_steps(
    xp: Any,
    w_step: Any,
    inputs: Any,
    acts: Any,
    cs: Any,
    tanh_c: Any,
    k0: int,
    gather: tuple[Any, Any] | None = None,
    dtype: Any = None,
) -> Any:
    """Every step of every batch part: ``acts[p, t] = w_step @ inputs[p, t]`` (at the first
    step the rows before ``k0`` left out), plus ``proj[:, tokens[p, t]]`` for ``gather =
    (proj, tokens)``, then the cell: ``cs[p, t + 1]``, ``tanh_c[p, t]``, and ``h_t`` into
    ``inputs[p, t + 1, :n]``. Shapes: ``inputs`` (P, T + 1, K, b), ``acts`` (P, T, 4n, b),
    ``cs`` (P, T + 1, n, b), ``tanh_c`` (P, T, n, b); ``w_step`` (4n, K) in ``acts``' dtype
    with its g rows doubled (CPU) or f, i, o rows halved (GPU), see :func:`step_weight`.
    Returns the hidden states as a new (P·b, T, n) array of ``dtype`` (default ``acts``'),
    each part's rows written by the thread that ran it.

    With packed steps, one compiled call per part runs the whole sequence, the parts at once on
    :func:`engine.ops.parallel.for_parts`'s threads; else a loop of a product and a cell
    kernel per step (one part)."""
    parts, steps, n, rows = acts.shape[0], acts.shape[1], cs.shape[2], acts.shape[3]
    hidden = xp.empty((parts * rows, steps, n), dtype=dtype or acts.dtype)
    if packed_steps(xp, rows):
        packed = kernels.panels.pack(w_step.T)
        proj, tokens = gather or (np.zeros((0, 0), acts.dtype), np.zeros((parts, 0, 0), np.intp))

        def run(p: int) -> None:
            kernels.recurrent.lstm_steps_forward(
                packed, inputs[p], acts[p], cs[p], tanh_c[p], k0, proj, tokens[p]
            )
            _copy_part(inputs[:, 1:, :n], hidden, p)

        parallel.for_parts(run, parts)
        return hidden
    if gather is not None:  # the fold is CPU-only
        proj, tokens = gather
    for p in range(parts):
        for t in range(steps):
            first = k0 if t == 0 else 0
            if first < inputs.shape[2]:
                step_product(w_step, inputs[p, t], acts[p, t], first)
            else:
                acts[p, t] = 0
            state = (cs[p, t], cs[p, t + 1], tanh_c[p, t], inputs[p, t + 1, :n])
            if gather is None:
                lstm_cell(xp, acts[p, t], *state)
            else:
                kernels.recurrent.lstm_forward_gather(
                    acts[p, t].reshape(-1), proj, tokens[p, t], *(v.reshape(-1) for v in state)
                )
        _copy_part(inputs[:, 1:, :n], hidden, p)
    return hidden


def backward_steps(
    xp: Any,
    w_hh: Any,
    acts: Any,
    cs: Any,
    tanh_c: Any,
    d_hs: Any,
    dz: Any,
    first_product: bool,
    then: Callable[[int], None],
) -> None:
    """Back-propagation through time in every batch part, newest step first: ``dz[p, t]``
    (4n, b) from the gradients of the step outputs ``d_hs`` (P, T, n, b, any layout and float
    dtype: each part copies its own) and those carried from the step after, through ``w_hh``
    (n, 4n); the product into the first step's state only when ``first_product``. ``then(p)``
    runs right after part ``p``'s steps, on the same thread (its share of the weight
    gradients, while its ``dz`` is still in cache). As :func:`forward_steps`: one compiled
    call per part with packed steps, else a loop."""
    parts, steps, n, rows = dz.shape[0], dz.shape[1], cs.shape[2], cs.shape[3]
    if packed_steps(xp, rows):
        packed = kernels.panels.pack(w_hh.T, dz.dtype)

        def run(p: int) -> None:
            d_out = np.ascontiguousarray(d_hs[p], dtype=dz.dtype)
            kernels.recurrent.lstm_steps_backward(
                packed, acts[p], cs[p], tanh_c[p], d_out, dz[p], first_product
            )
            then(p)

        parallel.for_parts(run, parts)
        return
    d_hs = xp.ascontiguousarray(d_hs, dtype=dz.dtype)
    for p in range(parts):
        dh = xp.zeros((n, rows), dtype=dz.dtype)
        dc = xp.zeros((n, rows), dtype=dz.dtype)
        for t in range(steps - 1, -1, -1):
            lstm_cell_backward(xp, acts[p, t], cs[p, t], tanh_c[p, t], d_hs[p, t], dh, dc, dz[p, t])
            if t or first_product:
                step_product(w_hh, dz[p, t], dh, 0)
        then(p)


def by_gate(steps: Any) -> Any:
    """Steps (P, T, N, b) of P batch parts as one (N, T·B) matrix, column ``t·B + p·b + j``
    for batch row ``p·b + j`` (a transposing copy)."""
    return steps.transpose(2, 1, 0, 3).reshape(steps.shape[2], -1)


def batch_parts(xp: Any, batch: int) -> int:
    """How many equal batch parts a recurrence runs at once, one per engine thread: the rows of
    a batch evolve independently, so each part is a whole recurrence of its own (one hand-off
    per sequence, not one per step). Only in the split mode (:func:`engine.set_num_threads`
    above 1: BLAS held to one thread; with BLAS's own threads spinning beside them the parts
    measured slower than one), where the parts run nothing but compiled kernels (packed steps),
    and with at least :data:`MIN_PART_ROWS` rows each."""
    if not packed_steps(xp, batch):
        return 1
    threads = parallel.get_num_threads() if parallel.active() else 1
    for parts in range(min(threads, batch // MIN_PART_ROWS), 1, -1):
        if batch % parts == 0:
            return parts
    return 1


def in_parts(batch_major: Any, parts: int) -> Any:
    """A (B, T, F) array as (P, T, F, B/P): each batch part's steps, features by batch."""
    batch, steps, feats = batch_major.shape
    return batch_major.reshape(parts, batch // parts, steps, feats).transpose(0, 2, 3, 1)


def from_parts(steps: Any, dtype: Any = None) -> Any:
    """The inverse of :func:`in_parts`: (P, T, F, b) steps as a new C-contiguous (P·b, T, F)
    array of ``dtype`` (default theirs), never a view of ``steps``."""
    xp = get_array_module(steps)
    parts, count, feats, rows = steps.shape
    out = xp.empty((parts * rows, count, feats), dtype=dtype or steps.dtype)
    for p in range(parts):
        _copy_part(steps, out, p)
    return out


def _copy_part(steps: Any, out: Any, p: int) -> None:
    """Write batch part ``p`` of ``steps`` (P, T, F, b) into its rows of ``out`` (P·b, T, F)."""
    parts, count, feats, rows = steps.shape
    out.reshape(parts, rows, count, feats)[p] = steps[p].transpose(2, 0, 1)


class StepSums:
    """``Σ inputs[p, t] @ dz[p, t].T`` (K, N) over every step of every batch part: a step
    weight's gradient, from each step's product input ``inputs`` (P, T, K, b) and
    pre-activation gradients ``dz`` (P, T, N, b). :meth:`add` sums one part's steps (on the
    part's own thread, see :func:`backward_steps`), :meth:`total` adds the parts' sums once
    every part is in. On a CPU with 512-bit vectors a part's sum is the packed kernel
    (:mod:`engine.kernels.panels`); else one BLAS product."""

    def __init__(self, xp: Any, inputs: Any, dz: Any) -> None:
        self.inputs, self.dz = inputs, dz
        self.packed = xp is np and kernels.panels.pays()
        parts, _, k, _ = inputs.shape
        self.sums = xp.empty((parts, k, dz.shape[2]), dtype=dz.dtype)

    def add(self, p: int) -> None:
        """Sum part ``p``'s steps into its own slot."""
        inputs, dz = self.inputs[p], self.dz[p]
        if self.packed:
            steps, k, batch = inputs.shape
            rows = np.ascontiguousarray(inputs.transpose(0, 2, 1)).reshape(steps * batch, k)
            kernels.panels.packed_product_rows(rows, kernels.panels.pack_steps(dz), self.sums[p])
        else:
            matmul(by_gate(inputs[None]), by_gate(dz[None]).T, out=self.sums[p])

    def total(self) -> Any:
        """The sum over every part (each must have been added)."""
        for p in range(1, self.sums.shape[0]):
            self.sums[0] += self.sums[p]
        return self.sums[0]
