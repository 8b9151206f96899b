"""Kernels of the LSTM's element-wise step: the gate activations, the cell and hidden state in
one kernel, and the whole gate backward in another, over the step's blocks of
:class:`engine.nn.sequence.LSTMSequenceFn` (gate-major: the pre-activations of one step are a
flat (4H, B) block, gates f, i, o, g, each state an (H, B) block).

Each kernel calls ``sigmoid`` and ``tanh`` once in its body: Numba inlines the maths of
:mod:`engine.kernels.vmath` into the loop, and inlining one of them twice in a function sets off
a spurious internal warning of Numba's. So all four gates go through the sigmoid in one loop
(the g block arriving doubled, ``g = tanh(z) = 2 sigmoid(2 z) - 1``), and ``tanh`` is only
taken of the new cell state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.kernels.compiler import kernel
from engine.kernels.vmath import sigmoid, tanh

__all__ = [
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "warm_up",
]


@kernel
def lstm_forward(a: Any, c_prev: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """One step forward: ``a`` (4n) holds the pre-activations ``z`` of the f, i, o gates and
    ``2 z`` of the g gate, and becomes the activations ``f, i, o = sigmoid(z)``, ``g = tanh(z)``;
    writes ``c = f c_prev + i g``, ``tanh_c = tanh(c)`` and ``h = o tanh_c`` (each n)."""
    n = c_prev.size
    one = a.dtype.type(1.0)
    for k in range(a.size):
        a[k] = sigmoid(a[k])
    for k in range(n):
        g = a[3 * n + k] + a[3 * n + k] - one
        a[3 * n + k] = g
        cell = a[k] * c_prev[k] + a[n + k] * g
        t = tanh(cell)
        c[k] = cell
        tanh_c[k] = t
        h[k] = a[2 * n + k] * t


@kernel
def lstm_backward(a: Any, c_prev: Any, tanh_c: Any, dh_out: Any, dh: Any, dc: Any, d: Any) -> None:
    """One step backward: from the step's activations ``a`` (4n, f, i, o, g), ``c_prev`` and
    ``tanh_c``, and the gradients reaching ``h`` (``dh_out`` from the output plus ``dh`` from
    the next step) and ``c`` (``dc``), write the pre-activation gradients ``d`` (4n) and turn
    ``dc`` into the gradient reaching ``c_prev``."""
    n = c_prev.size
    one = a.dtype.type(1.0)
    for k in range(n):
        f, i, o, g = a[k], a[n + k], a[2 * n + k], a[3 * n + k]
        t = tanh_c[k]
        grad_h = dh[k] + dh_out[k]
        grad_c = dc[k] + grad_h * o * (one - t * t)
        d[k] = grad_c * c_prev[k] * f * (one - f)
        d[n + k] = grad_c * g * i * (one - i)
        d[2 * n + k] = grad_h * t * o * (one - o)
        d[3 * n + k] = grad_c * i * (one - g * g)
        dc[k] = grad_c * f


@kernel
def lstm_cell_forward(a: Any, bias: Any, c_prev: Any, state: Any, tanh_c: Any) -> None:
    """The book's cell step, batch-major: ``a`` (B, 4n) holds ``[x, h] @ W`` (gates f, i, o, g
    by columns) and becomes the activations of ``a + bias``; writes ``state`` (B, 2n) as
    ``[h', c']`` and ``tanh_c`` (B, n); ``c_prev`` is (B, n)."""
    batch, four = a.shape
    n = four // 4
    one = a.dtype.type(1.0)
    for b in range(batch):
        row = a[b]
        for j in range(four):
            z = row[j] + bias[j]
            s = sigmoid(z + z if j >= 3 * n else z)
            # g written here: writing it in the next loop stopped that loop's vectorisation
            row[j] = s + s - one if j >= 3 * n else s
        cp, out, tc = c_prev[b], state[b], tanh_c[b]
        for j in range(n):
            cell = row[j] * cp[j] + row[n + j] * row[3 * n + j]
            t = tanh(cell)
            out[n + j] = cell
            tc[j] = t
            out[j] = row[2 * n + j] * t


@kernel
def lstm_cell_backward(a: Any, c_prev: Any, tanh_c: Any, grad: Any, d: Any, dc_prev: Any) -> None:
    """The book's cell step backward, batch-major: from the activations ``a`` (B, 4n),
    ``c_prev`` and ``tanh_c`` (B, n) and the gradient ``grad`` (B, 2n) of ``[h', c']``, write
    the pre-activation gradients ``d`` (B, 4n) and the gradient ``dc_prev`` (B, n)."""
    batch, four = a.shape
    n = four // 4
    one = a.dtype.type(1.0)
    for b in range(batch):
        row, cp, tc, gr, dr, dcp = a[b], c_prev[b], tanh_c[b], grad[b], d[b], dc_prev[b]
        for j in range(n):
            f, i, o, g = row[j], row[n + j], row[2 * n + j], row[3 * n + j]
            t = tc[j]
            grad_h = gr[j]
            grad_c = gr[n + j] + grad_h * o * (one - t * t)
            dr[j] = grad_c * cp[j] * f * (one - f)
            dr[n + j] = grad_c * g * i * (one - i)
            dr[2 * n + j] = grad_h * t * o * (one - o)
            dr[3 * n + j] = grad_c * i * (one - g * g)
            dcp[j] = grad_c * f


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        a, d = np.zeros(8, dtype), np.zeros(8, dtype)
        c_prev, c, tanh_c, h = (np.zeros(2, dtype) for _ in range(4))
        lstm_forward(a, c_prev, c, tanh_c, h)
        lstm_backward(a, c_prev, tanh_c, h, c, c_prev, d)
        rows, state = a.reshape(1, 8), np.zeros((1, 4), dtype)
        cells = c_prev.reshape(1, 2)
        lstm_cell_forward(rows, a, cells, state, cells)
        lstm_cell_backward(rows, cells, cells, state, d.reshape(1, 8), cells)
