"""The book's ``LSTMCell`` step as one primitive over one fused weight.

The cell keeps its nine ``Linear`` sub-layers (the book's layout and parameter order), but the
arrays of the eight gate weights and four gate biases are views into one (F+H, 4H) weight and
one (4H,) bias, so a step is one matrix product ``[x, h] @ W + b`` instead of eight, and its
backward two products instead of sixteen. An optimizer updating a parameter in place updates the
fused weight; a parameter whose array was replaced (``.to()``, assigning ``.data``) is fused
again at the next step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import kernels
from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.nn.linear import Linear
from engine.ops.gemm import matmul
from engine.ops.kernel_call import working_dtype

__all__ = ["FusedGates", "LSTMCellFn"]


class FusedGates:
    """The fused (F+H, 4H) weight and (4H,) bias behind a cell's gate parameters.

    Column blocks are the gates f, i, o, g (``xf, xi, xo, xc`` above ``hf, hi, ho, hc``).
    """

    def __init__(self, x_gates: tuple[Linear, ...], h_gates: tuple[Linear, ...]) -> None:
        self.x_gates, self.h_gates = x_gates, h_gates
        self.views: list[Any] = []
        self.weight: Any = None
        self.bias: Any = None

    def parameters(self) -> list[Any]:
        """The gate weights (x gates, then h gates), then the x gates' biases."""
        return [
            *(g.weight for g in self.x_gates),
            *(g.weight for g in self.h_gates),
            *(g.bias for g in self.x_gates),
        ]

    def arrays(self) -> tuple[Any, Any]:
        """The fused weight and bias, fusing again if any parameter's array was replaced."""
        params = self.parameters()
        if len(self.views) != len(params) or any(
            p.data is not v for p, v in zip(params, self.views, strict=True)
        ):
            self._fuse()
        return self.weight, self.bias

    def _fuse(self) -> None:
        first = self.x_gates[0].weight.data
        xp = get_array_module(first)
        n_in, n = first.shape
        weight = xp.empty((n_in + n, 4 * n), dtype=first.dtype)
        bias = xp.empty(4 * n, dtype=first.dtype)
        for k, (gx, gh) in enumerate(zip(self.x_gates, self.h_gates, strict=True)):
            cols = slice(k * n, (k + 1) * n)
            weight[:n_in, cols] = gx.weight.data
            weight[n_in:, cols] = gh.weight.data
            bias[cols] = gx.bias.data
            gx.weight.data, gh.weight.data = weight[:n_in, cols], weight[n_in:, cols]
            gx.bias.data = bias[cols]
        self.weight, self.bias = weight, bias
        self.views = [p.data for p in self.parameters()]


class LSTMCellFn(Function):
    """One LSTM step: inputs ``x`` (B, F), ``h``, ``c`` (B, H) and the twelve gate parameters
    (as :meth:`FusedGates.parameters`); output the new state ``[h', c']`` (B, 2H).

    ``weight`` and ``bias`` (the fused arrays whose views the parameters are) are given as
    keyword parameters. Gates as the book's cell: ``f, i, o = sigmoid``, ``g = tanh``,
    ``c' = f c + i g``, ``h' = o tanh(c')``.
    """

    op_name = "lstm_cell"
    weight: Any
    bias: Any

    def forward(self, x: Any, h: Any, c: Any, *params: Any) -> Any:
        """Run the step, keeping the gate activations for backward."""
        xp = get_array_module(x)
        w = self.weight
        n_in, n = w.shape[0] - w.shape[1] // 4, w.shape[1] // 4
        if x.ndim != 2 or x.shape[1] != n_in or h.shape != (x.shape[0], n) or c.shape != h.shape:
            raise ShapeError(
                f"LSTMCell: expected input (batch, {n_in}) and states (batch, {n}), got "
                f"{tuple(x.shape)}, {tuple(h.shape)} and {tuple(c.shape)}"
            )
        batch = x.shape[0]
        xh = xp.empty((batch, n_in + n), dtype=w.dtype)
        xh[:, :n_in] = x
        xh[:, n_in:] = h
        a = matmul(xh, w)
        state = self._cpu_step(a, c) if xp is np else self._array_step(xp, a, c)
        self.xh = xh
        return state

    def _cpu_step(self, a: Any, c: Any) -> Any:
        """The gates, ``[h', c']`` and ``tanh(c')`` by the compiled kernel (float16 in float32)."""
        work = working_dtype(a.dtype)
        a = a.astype(work, copy=False)
        c = np.ascontiguousarray(c, dtype=work)
        batch, n = c.shape
        state = np.empty((batch, 2 * n), dtype=work)
        self.tanh_c = np.empty_like(c)
        kernels.recurrent.lstm_cell_forward(
            a, self.bias.astype(work, copy=False), c, state, self.tanh_c
        )
        self.acts, self.c_work = a, c
        return state.astype(self.weight.dtype, copy=False)

    def _array_step(self, xp: Any, a: Any, c: Any) -> Any:
        """The same step by array operations (CuPy arrays)."""
        n = a.shape[1] // 4
        a += self.bias
        sig = a[:, : 3 * n]
        sig *= 0.5  # sigmoid(z) = (1 + tanh(z / 2)) / 2: one tanh for all four gates
        xp.tanh(a, out=a)
        sig *= 0.5
        sig += 0.5
        f, i, o, g = (a[:, k * n : (k + 1) * n] for k in range(4))
        state = xp.empty((a.shape[0], 2 * n), dtype=a.dtype)
        h_new, c_new = state[:, :n], state[:, n:]
        xp.multiply(f, c, out=c_new)
        c_new += i * g
        self.tanh_c = xp.tanh(c_new)
        xp.multiply(o, self.tanh_c, out=h_new)
        self.acts, self.c_work = a, c
        return state

    def backward(self, grad: Any) -> tuple[Any, ...]:
        """Gradients of x, h, c, the eight gate weights and the four biases."""
        xp = get_array_module(grad)
        a, w = self.acts, self.weight
        n = a.shape[1] // 4
        n_in = w.shape[0] - n
        if xp is np:
            d = np.empty_like(a)
            dc_total = np.empty_like(self.tanh_c)  # becomes the gradient reaching c
            grad = np.ascontiguousarray(grad, dtype=a.dtype)
            kernels.recurrent.lstm_cell_backward(a, self.c_work, self.tanh_c, grad, d, dc_total)
        else:
            d, dc_total = self._array_backward(xp, grad)
        dxh = matmul(d, w.T) if any(self.needs[:2]) else None
        dx = dxh[:, :n_in] if dxh is not None and self.needs[0] else None
        dh_prev = dxh[:, n_in:] if dxh is not None and self.needs[1] else None
        dc_prev = dc_total if self.needs[2] else None
        weight_grads: list[Any] = [None] * 12
        if any(self.needs[3:]):
            dw = matmul(self.xh.T, d)
            db = d.sum(axis=0)
            for k in range(4):
                cols = slice(k * n, (k + 1) * n)
                weight_grads[k] = dw[:n_in, cols]
                weight_grads[4 + k] = dw[n_in:, cols]
                weight_grads[8 + k] = db[cols]
        return (dx, dh_prev, dc_prev, *weight_grads)

    def _array_backward(self, xp: Any, grad: Any) -> tuple[Any, Any]:
        """The pre-activation gradients and the gradient reaching c by array operations (CuPy
        arrays)."""
        a, tanh_c = self.acts, self.tanh_c
        n = a.shape[1] // 4
        dh, dc = grad[:, :n], grad[:, n:]
        f, i, o, g = (a[:, k * n : (k + 1) * n] for k in range(4))
        dc_total = dh * o
        dc_total *= 1.0 - tanh_c * tanh_c
        dc_total += dc
        d = xp.empty_like(a)
        xp.multiply(dc_total, self.c_work, out=d[:, :n])
        xp.multiply(dc_total, g, out=d[:, n : 2 * n])
        xp.multiply(dh, tanh_c, out=d[:, 2 * n : 3 * n])
        xp.multiply(dc_total, i, out=d[:, 3 * n :])
        sig = a[:, : 3 * n]
        d[:, : 3 * n] *= sig * (1.0 - sig)
        d[:, 3 * n :] *= 1.0 - g * g
        dc_total *= f
        return d, dc_total
