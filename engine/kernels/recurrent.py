"""Kernels of the recurrent layers' element-wise steps: for each step the gate activations and
the new state in one kernel, the whole gate backward in another. The LSTM sequence layer
(:class:`engine.nn.sequence.LSTMSequenceFn`) works gate-major (the pre-activations of one step
are a flat (4H, B) block, gates f, i, o, g, each state an (H, B) block); the book's
``LSTMCell`` (:mod:`engine.nn.lstm_cell_fn`) and the GRU (:mod:`engine.nn.gru`) batch-major
((B, G·H) rows, gate blocks by columns).

Each kernel calls ``sigmoid`` and ``tanh`` once in its body: Numba inlines the maths of
:mod:`engine.kernels.vmath` into the loop, and inlining one of them twice in a function sets off
a spurious internal warning of Numba's. So all four gates go through the sigmoid in one loop
(the g block arriving doubled, ``g = tanh(z) = 2 sigmoid(2 z) - 1``), and ``tanh`` is only
taken of the new cell state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.kernels import panels
from engine.kernels.compiler import helper, kernel
from engine.kernels.vmath import sigmoid, tanh

__all__ = [
    "gru_backward",
    "gru_forward",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "lstm_forward_gather",
    "lstm_steps_backward",
    "lstm_steps_forward",
    "scatter_columns",
    "warm_up",
]


@helper
def _gate_grads(gates: Any, t: Any, c_prev: Any, grad_h: Any, grad_c: Any, one: Any) -> Any:
    """An LSTM cell's gradients from its activations ``gates = (f, i, o, g)``, ``t = tanh(c)``,
    ``c_prev`` and the gradients reaching ``h`` and ``c``: the pre-activation gradients of f,
    i, o and g, and the gradient of ``c_prev``."""
    f, i, o, g = gates
    grad_c = grad_c + grad_h * o * (one - t * t)
    return (
        grad_c * c_prev * f * (one - f),
        grad_c * g * i * (one - i),
        grad_h * t * o * (one - o),
        grad_c * i * (one - g * g),
        grad_c * f,
    )


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
def lstm_forward_gather(
    a: Any, proj: Any, ids: Any, c_prev: Any, c: Any, tanh_c: Any, h: Any
) -> None:
    """:func:`lstm_forward` after adding the input's part of the pre-activations from a table:
    ``a`` (4n·B, gate-major, B per row) gains ``proj[:, ids]``, where ``proj`` (4n, V) holds
    each token's projection (g rows doubled, as ``a``'s) and ``ids`` (B,) the step's tokens."""
    batch = ids.size
    for r in range(proj.shape[0]):
        row = proj[r]
        for b in range(batch):
            a[r * batch + b] += row[ids[b]]
    lstm_forward(a, c_prev, c, tanh_c, h)


@kernel
def scatter_columns(src: Any, ids: Any, width: int) -> Any:
    """Column sums by token over a stack of blocks: ``out[:, v]`` (out is (R, ``width``)) is
    the sum of the columns ``src[s, :, j]`` with ``ids[s, j] == v``, for ``src`` (S, R, b) and
    ``ids`` (S, b), added in order of ``s``, then ``j``."""
    out = np.zeros((src.shape[1], width), dtype=src.dtype)
    for s in range(src.shape[0]):
        block, tokens = src[s], ids[s]
        for r in range(block.shape[0]):
            row, acc = block[r], out[r]
            for j in range(tokens.size):
                acc[tokens[j]] += row[j]
    return out


@kernel
def lstm_backward(a: Any, c_prev: Any, tanh_c: Any, dh_out: Any, dh: Any, dc: Any, d: Any) -> None:
    """One step backward: from the step's activations ``a`` (4n, f, i, o, g), ``c_prev`` and
    ``tanh_c``, and the gradients reaching ``h`` (``dh_out`` from the output plus ``dh`` from
    the next step) and ``c`` (``dc``), write the pre-activation gradients ``d`` (4n) and turn
    ``dc`` into the gradient reaching ``c_prev``."""
    n = c_prev.size
    one = a.dtype.type(1.0)
    for k in range(n):
        gates = (a[k], a[n + k], a[2 * n + k], a[3 * n + k])
        df, di, do, dg, dc[k] = _gate_grads(
            gates, tanh_c[k], c_prev[k], dh[k] + dh_out[k], dc[k], one
        )
        d[k], d[n + k], d[2 * n + k], d[3 * n + k] = df, di, do, dg


@kernel
def lstm_steps_forward(
    packed: Any, inputs: Any, acts: Any, cs: Any, tanh_c: Any, k0: int, proj: Any, tokens: Any
) -> None:
    """Every step of a sequence, for one batch part of b >= :data:`engine.kernels.panels.ROWS`
    rows, in one call: ``acts[t]`` (4n, b) becomes ``w.T @ inputs[t]`` (``w`` (K, 4n) packed
    by :func:`engine.kernels.panels.pack`; at the first step the rows of ``inputs`` before
    ``k0`` are left out, all of them when ``k0`` is K), plus ``proj[:, tokens[t]]`` when
    ``tokens`` (T, b) is not empty; then :func:`lstm_forward` (or its gathering form) writes
    ``cs[t + 1]``, ``tanh_c[t]`` and ``h_t`` into ``inputs[t + 1, :n]``. ``inputs`` is
    (T + 1, K, b), ``cs`` (T + 1, n, b)."""
    n = cs.shape[1]
    for t in range(acts.shape[0]):
        a = acts[t]
        first = k0 if t == 0 else 0
        if first < inputs.shape[1]:
            panels.product(inputs[t], packed, a, first, False, False)
        else:
            a[:] = 0
        c_prev, c, tc = cs[t].reshape(-1), cs[t + 1].reshape(-1), tanh_c[t].reshape(-1)
        h = inputs[t + 1, :n].reshape(-1)
        if tokens.shape[0]:
            lstm_forward_gather(a.reshape(-1), proj, tokens[t], c_prev, c, tc, h)
        else:
            lstm_forward(a.reshape(-1), c_prev, c, tc, h)


@kernel
def lstm_steps_backward(
    packed: Any, acts: Any, cs: Any, tanh_c: Any, d_hs: Any, dz: Any, first_product: bool
) -> None:
    """Back-propagation through every step of one batch part (b >= ``panels.ROWS`` rows),
    newest first, in one call: :func:`lstm_backward` writes ``dz[t]`` (4n, b) from
    ``d_hs[t]`` (n, b, the gradient of the step's output) and the gradients carried from step
    t + 1, then ``dh = w_hh @ dz[t]`` (``w_hh.T`` packed by :func:`engine.kernels.panels.pack`),
    skipped at the first step unless ``first_product`` (with a zero initial state nothing
    needs it)."""
    n, rows = cs.shape[1], cs.shape[2]
    dh = np.zeros((n, rows), dtype=acts.dtype)
    dc = np.zeros((n, rows), dtype=acts.dtype)
    flat_dh, flat_dc = dh.reshape(-1), dc.reshape(-1)
    for t in range(acts.shape[0] - 1, -1, -1):
        lstm_backward(
            acts[t].reshape(-1),
            cs[t].reshape(-1),
            tanh_c[t].reshape(-1),
            d_hs[t].reshape(-1),
            flat_dh,
            flat_dc,
            dz[t].reshape(-1),
        )
        if t or first_product:
            panels.product(dz[t], packed, dh, 0, False, False)


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
            gates = (row[j], row[n + j], row[2 * n + j], row[3 * n + j])
            df, di, do, dg, dcp[j] = _gate_grads(gates, tc[j], cp[j], gr[j], gr[n + j], one)
            dr[j], dr[n + j], dr[2 * n + j], dr[3 * n + j] = df, di, do, dg


@kernel
def gru_forward(
    xg: Any, hh: Any, b_hh: Any, h_prev: Any, gates: Any, cand: Any, hn: Any, h: Any
) -> None:
    """One GRU step, batch-major: ``xg`` (B, 3n) is ``x @ W_ih + b_ih`` and ``hh`` (B, 3n)
    ``h_prev @ W_hh`` (gate blocks r, z, n); writes ``gates`` (B, 2n) ``r, z``, ``hn`` (B, n)
    ``hh_n + b_hn``, ``cand`` (B, n) ``tanh(xg_n + r hn)`` and ``h = cand + z (h_prev - cand)``."""
    batch, n = h.shape
    for b in range(batch):
        xr, hr, gr = xg[b], hh[b], gates[b]
        for j in range(2 * n):
            gr[j] = sigmoid(xr[j] + hr[j] + b_hh[j])
        hp, cr, hnr, out = h_prev[b], cand[b], hn[b], h[b]
        for j in range(n):
            v = hr[2 * n + j] + b_hh[2 * n + j]
            hnr[j] = v
            t = tanh(xr[2 * n + j] + gr[j] * v)
            cr[j] = t
            out[j] = t + gr[n + j] * (hp[j] - t)


@kernel
def gru_backward(
    gates: Any, cand: Any, hn: Any, h_prev: Any, d_out: Any, dh: Any, dxg: Any, dhg: Any
) -> None:
    """One GRU step backward, batch-major: the gradient reaching ``h`` is ``dh + d_out`` (each
    (B, n)); writes the gradients ``dxg`` (B, 3n) of ``xg`` and ``dhg`` (B, 3n) of ``hh`` (and
    of ``b_hh``), and turns ``dh`` into the part of the gradient reaching ``h_prev`` that does
    not pass through ``W_hh`` (``z`` times the gradient)."""
    batch, n = dh.shape
    one = dh.dtype.type(1.0)
    for b in range(batch):
        gr, cr, hnr, hp, do, dhr = gates[b], cand[b], hn[b], h_prev[b], d_out[b], dh[b]
        dx, dhh = dxg[b], dhg[b]
        for j in range(n):
            r, z, c = gr[j], gr[n + j], cr[j]
            grad = dhr[j] + do[j]
            d_cand = grad * (one - z) * (one - c * c)
            d_r = d_cand * hnr[j] * r * (one - r)
            d_z = grad * (hp[j] - c) * z * (one - z)
            dx[j] = d_r
            dx[n + j] = d_z
            dx[2 * n + j] = d_cand
            dhh[j] = d_r
            dhh[n + j] = d_z
            dhh[2 * n + j] = d_cand * r
            dhr[j] = grad * z


def _warm_up_steps(dtype: Any) -> None:
    """Run the sequence kernels once with the types the LSTM layers pass (n 2, b 4, T 2)."""
    acts, dz = np.zeros((2, 8, 4), dtype), np.zeros((2, 8, 4), dtype)
    cs, tanh_c, d_hs = (np.zeros(shape, dtype) for shape in ((3, 2, 4), (2, 2, 4), (2, 2, 4)))
    no_tokens = np.zeros((0, 0), np.intp)
    lstm_steps_forward(
        panels.pack(np.zeros((4, 8), dtype)),
        np.zeros((3, 4, 4), dtype),
        acts,
        cs,
        tanh_c,
        2,
        np.zeros((0, 0), dtype),
        no_tokens,
    )
    hs, proj, tokens = (
        np.zeros((3, 2, 4), dtype),
        np.zeros((8, 3), dtype),
        np.zeros((2, 4), np.intp),
    )
    lstm_steps_forward(panels.pack(np.zeros((2, 8), dtype)), hs, acts, cs, tanh_c, 2, proj, tokens)
    lstm_steps_backward(panels.pack(np.zeros((8, 2), dtype)), acts, cs, tanh_c, d_hs, dz, True)


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        a, d = np.zeros(8, dtype), np.zeros(8, dtype)
        c_prev, c, tanh_c, h = (np.zeros(2, dtype) for _ in range(4))
        lstm_forward(a, c_prev, c, tanh_c, h)
        ids = np.zeros(2, np.intp)
        lstm_forward_gather(a, a.reshape(4, 2), ids, c_prev, c, tanh_c, h)
        scatter_columns(a.reshape(1, 4, 2), ids.reshape(1, 2), 2)
        lstm_backward(a, c_prev, tanh_c, h, c, c_prev, d)
        _warm_up_steps(dtype)
        rows, state = a.reshape(1, 8), np.zeros((1, 4), dtype)
        cells = c_prev.reshape(1, 2)
        lstm_cell_forward(rows, a, cells, state, cells)
        lstm_cell_backward(rows, cells, cells, state, d.reshape(1, 8), cells)
        three, one = np.zeros((1, 6), dtype), np.zeros((1, 2), dtype)
        gru_forward(three, three, a[:6], one, state, one, one, one)
        gru_backward(state, one, one, one, one, one, three, three)
