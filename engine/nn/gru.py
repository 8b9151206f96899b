"""Gated recurrent units: ``GRUCell`` (one step, from primitives) and ``GRU`` (a whole
sequence as one primitive with hand-written back-propagation through time)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine import kernels
from engine.autograd import Function
from engine.backend import array_module, get_array_module
from engine.errors import ShapeError
from engine.nn.module import Layer
from engine.ops.gemm import matmul
from engine.ops.kernel_call import working_dtype
from engine.tensor import Tensor

__all__ = ["GRU", "GRUCell", "GRUSequenceFn"]


def _sigmoid(xp: Any, z: Any) -> Any:
    return xp.tanh(z * 0.5) * 0.5 + 0.5


def _step(xp: Any, xg: Any, hh: Any, b_hh: Any, h_prev: Any, out: tuple[Any, ...]) -> None:
    """One step forward into ``out = (gates, cand, hn, h)``: as the kernel
    :func:`engine.kernels.recurrent.gru_forward` (on the CPU), by array operations (CuPy)."""
    if xp is np:
        kernels.recurrent.gru_forward(xg, hh, b_hh, h_prev, *out)
        return
    gates, cand, hn, h = out
    n = h.shape[1]
    hh = hh + b_hh
    gates[...] = _sigmoid(xp, xg[:, : 2 * n] + hh[:, : 2 * n])
    hn[...] = hh[:, 2 * n :]
    cand[...] = xp.tanh(xg[:, 2 * n :] + gates[:, :n] * hn)
    h[...] = cand + gates[:, n:] * (h_prev - cand)


def _step_backward(
    xp: Any, saved: tuple[Any, ...], d_out: Any, dh: Any, dxg: Any, dhg: Any
) -> None:
    """One step backward (``saved = (gates, cand, hn, h_prev)``): as the kernel
    :func:`engine.kernels.recurrent.gru_backward` (on the CPU), by array operations (CuPy)."""
    gates, cand, hn, h_prev = saved
    if xp is np:
        kernels.recurrent.gru_backward(gates, cand, hn, h_prev, d_out, dh, dxg, dhg)
        return
    n = dh.shape[1]
    dh += d_out
    r, z = gates[:, :n], gates[:, n:]
    d_cand = dh * (1.0 - z) * (1.0 - cand * cand)  # through tanh
    dxg[:, 2 * n :] = d_cand
    dhg[:, 2 * n :] = d_cand * r
    dxg[:, :n] = d_cand * hn * r * (1.0 - r)
    dxg[:, n : 2 * n] = dh * (h_prev - cand) * z * (1.0 - z)
    dhg[:, : 2 * n] = dxg[:, : 2 * n]
    dh *= z


class GRUSequenceFn(Function):
    """The GRU over all time steps: x (B, T, F), w_ih (F, 3H), b_ih (3H,), w_hh (H, 3H),
    b_hh (3H,) -> hidden states (B, T, H), from ``h_0 = 0``; gate blocks r, z, n (PyTorch's).
    Each step's element-wise work is one kernel each way on the CPU
    (:mod:`engine.kernels.recurrent`; float16 computed in float32)."""

    op_name = "gru"

    def forward(self, x: Any, w_ih: Any, b_ih: Any, w_hh: Any, b_hh: Any) -> Any:
        """Run the recurrence, keeping the gates and states for backward."""
        xp = get_array_module(x)
        out_dtype = x.dtype
        if xp is np:
            work = working_dtype(w_hh.dtype)
            x, w_ih, b_ih, w_hh, b_hh = (
                v.astype(work, copy=False) for v in (x, w_ih, b_ih, w_hh, b_hh)
            )
        batch, steps, n_in = x.shape
        n, dtype = w_hh.shape[0], w_hh.dtype
        xproj = (matmul(x.reshape(-1, n_in), w_ih) + b_ih).reshape(batch, steps, 3 * n)
        xproj = xp.ascontiguousarray(xproj.transpose(1, 0, 2))  # (T, B, 3H)
        hs = xp.zeros((steps + 1, batch, n), dtype=dtype)
        gates = xp.empty((steps, batch, 2 * n), dtype=dtype)  # r, z activations
        cand = xp.empty((steps, batch, n), dtype=dtype)  # the candidate n = tanh(...)
        hn = xp.empty((steps, batch, n), dtype=dtype)  # h_{t-1} @ W_hn + b_hn
        hh = xp.zeros((batch, 3 * n), dtype=dtype)  # h_{t-1} @ W_hh (h_0 = 0)
        for t in range(steps):
            if t:
                matmul(hs[t], w_hh, out=hh)
            _step(xp, xproj[t], hh, b_hh, hs[t], (gates[t], cand[t], hn[t], hs[t + 1]))
        self.x, self.w_ih, self.w_hh, self.hs = x, w_ih, w_hh, hs
        self.gates, self.cand, self.hn = gates, cand, hn
        return hs[1:].transpose(1, 0, 2).astype(out_dtype, order="C")

    def backward(self, grad: Any) -> tuple[Any, ...]:
        """Back-propagate through time, newest step first; weight gradients in one product."""
        xp = get_array_module(grad)
        steps, batch, n = self.cand.shape
        dtype = self.cand.dtype
        d_out = xp.ascontiguousarray(grad.transpose(1, 0, 2), dtype=dtype)  # (T, B, H)
        dx_gates = xp.empty((steps, batch, 3 * n), dtype=dtype)
        dh_gates = xp.empty((steps, batch, 3 * n), dtype=dtype)
        dh = xp.zeros((batch, n), dtype=dtype)
        through_w = xp.empty((batch, n), dtype=dtype)
        for t in range(steps - 1, -1, -1):
            saved = (self.gates[t], self.cand[t], self.hn[t], self.hs[t])
            _step_backward(xp, saved, d_out[t], dh, dx_gates[t], dh_gates[t])
            if t:  # nothing reaches the fixed h_0
                matmul(dh_gates[t], self.w_hh.T, out=through_w)
                dh += through_w
        batch_steps = steps * batch
        dxg_flat = dx_gates.reshape(batch_steps, 3 * n)
        dhg_flat = dh_gates.reshape(batch_steps, 3 * n)
        x_flat = self.x.transpose(1, 0, 2).reshape(batch_steps, -1)
        dx = dw_ih = db_ih = dw_hh = db_hh = None
        if self.needs[0]:
            dx = matmul(dxg_flat, self.w_ih.T).reshape(steps, batch, -1).transpose(1, 0, 2)
        if self.needs[1] or self.needs[2]:
            dw_ih, db_ih = matmul(x_flat.T, dxg_flat), dxg_flat.sum(axis=0)
        if self.needs[3] or self.needs[4]:
            dw_hh = matmul(self.hs[:steps].reshape(batch_steps, n).T, dhg_flat)
            db_hh = dhg_flat.sum(axis=0)
        return dx, dw_ih, db_ih, dw_hh, db_hh


class _GRUParams(Layer):
    """``weight_ih`` (F, 3H), ``weight_hh`` (H, 3H), ``bias_ih`` and ``bias_hh`` (3H,), gate
    blocks r, z, n; the PyTorch keys hold the transposed weights (3H, F) and (3H, H)."""

    n_inputs: int
    n_hidden: int
    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor
    bias_hh: Tensor
    _suffix = ""

    def _init(self, input_size: int, hidden_size: int) -> None:
        self.n_inputs, self.n_hidden = int(input_size), int(hidden_size)
        if min(self.n_inputs, self.n_hidden) < 1:
            raise ValueError(f"{type(self).__name__}: sizes must be positive")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``[-1/sqrt(H), 1/sqrt(H)]``, as PyTorch."""
        k, width = 1.0 / math.sqrt(self.n_hidden), 3 * self.n_hidden
        self._set_parameter("weight_ih", np.random.uniform(-k, k, (self.n_inputs, width)))
        self._set_parameter("weight_hh", np.random.uniform(-k, k, (self.n_hidden, width)))
        self._set_parameter("bias_ih", np.random.uniform(-k, k, width))
        self._set_parameter("bias_hh", np.random.uniform(-k, k, width))

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """``nn.GRU``'s keys (``weight_ih_l0`` ...) or ``nn.GRUCell``'s (``weight_ih`` ...)."""
        s = self._suffix
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            value = getattr(self, name).numpy()
            state[name + s] = np.ascontiguousarray(value.T) if value.ndim == 2 else value
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            value = arrays[name + self._suffix]
            self._set_parameter(name, value.T if value.ndim == 2 else value)

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}"


class GRUCell(_GRUParams):
    """One GRU step, as ``torch.nn.GRUCell``, built from differentiable primitives.

    Notes
    -----
    With ``gi = x @ weight_ih + bias_ih`` and ``gh = h @ weight_hh + bias_hh`` split into
    blocks r, z, n::

        r = sigmoid(gi_r + gh_r);  z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n);  h' = (1 - z) * n + z * h

    Examples
    --------
    >>> cell = GRUCell(3, 4)
    >>> h = cell(Tensor(np.zeros((2, 3))))
    >>> cell(Tensor(np.ones((2, 3))), h).shape
    (2, 4)
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self._init(input_size, hidden_size)

    def init_hidden(self, batch_size: int = 1) -> Tensor:
        """A zero hidden state (batch_size, hidden_size)."""
        xp = array_module(self.weight_hh.device)
        return Tensor(xp.zeros((batch_size, self.n_hidden), dtype=self.weight_hh.dtype))

    def forward(self, input: Tensor, hidden: Tensor | None = None) -> Tensor:
        """Return the next hidden state (zeros are the previous one when ``hidden`` is None)."""
        if input.ndim != 2 or input.shape[1] != self.n_inputs:
            raise ShapeError(f"GRUCell: expected input (B, {self.n_inputs}), got {input.shape}")
        if hidden is None:
            hidden = self.init_hidden(input.shape[0])
        n = self.n_hidden
        gi = input.mm(self.weight_ih) + self.bias_ih
        gh = hidden.mm(self.weight_hh) + self.bias_hh
        r = (gi[:, :n] + gh[:, :n]).sigmoid()
        z = (gi[:, n : 2 * n] + gh[:, n : 2 * n]).sigmoid()
        cand = (gi[:, 2 * n :] + r * gh[:, 2 * n :]).tanh()
        return cand + z * (hidden - cand)


class GRU(_GRUParams):
    """A GRU run over a whole sequence, returning every hidden state (as ``torch.nn.GRU`` with
    ``batch_first=True``, its output ``[0]``).

    Parameters
    ----------
    input_size : int
        Input features F.
    hidden_size : int
        Hidden size H.

    Shape
    -----
    (B, T, F) -> (B, T, H), from a zero initial state.

    Notes
    -----
    The equations of :class:`GRUCell`; the recurrence is one primitive
    (:class:`GRUSequenceFn`), checked against the cell unrolled and against PyTorch.

    Examples
    --------
    >>> GRU(3, 4)(Tensor(np.zeros((2, 5, 3)))).shape
    (2, 5, 4)
    """

    _suffix = "_l0"

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self._init(input_size, hidden_size)

    def forward(self, input: Tensor) -> Tensor:
        """Return the hidden states (B, T, H) for the input sequence (B, T, F)."""
        if input.ndim != 3 or input.shape[2] != self.n_inputs:
            raise ShapeError(
                f"GRU: expected input (B, T, {self.n_inputs}), got shape {input.shape}"
            )
        return GRUSequenceFn.apply(
            input, self.weight_ih, self.bias_ih, self.weight_hh, self.bias_hh
        )
