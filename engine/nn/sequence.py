"""Sequence layers ``RNN`` and ``LSTM``: (B, T, F) -> all hidden states (B, T, H)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.nn.module import Layer
from engine.nn.recurrent import activation_layer
from engine.ops import stack
from engine.tensor import Tensor

__all__ = ["LSTM", "RNN", "LSTMSequenceFn"]


def _lstm_cell(xp: Any, a: Any, c_prev: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """Turn the pre-activations ``a`` (B, 4H) into gate activations in place and write the new
    cell state ``c``, ``tanh(c)`` and hidden state ``h`` into the given arrays.

    The f, i, o columns of ``a`` arrive halved, so that one ``tanh`` over the whole block serves
    all four gates: ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` (no overflow, no temporaries).
    """
    n = a.shape[1] // 4
    xp.tanh(a, out=a)
    sig = a[:, : 3 * n]
    sig *= 0.5
    sig += 0.5
    f, i, o, g = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
    xp.multiply(f, c_prev, out=c)
    c += i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)


def _gate_derivatives(xp: Any, acts: Any) -> Any:
    """Derivative of every gate activation w.r.t. its pre-activation, for all steps at once."""
    n = acts.shape[-1] // 4
    deriv = xp.empty_like(acts)
    sig = acts[..., : 3 * n]
    xp.subtract(1.0, sig, out=deriv[..., : 3 * n])
    deriv[..., : 3 * n] *= sig  # s (1 - s)
    g = acts[..., 3 * n :]
    xp.multiply(g, g, out=deriv[..., 3 * n :])
    xp.subtract(1.0, deriv[..., 3 * n :], out=deriv[..., 3 * n :])  # 1 - g²
    return deriv


def _lstm_cell_backward(xp: Any, a: Any, c_prev: Any, tanh_c: Any, dtanh_c: Any, dh: Any,
                        dc: Any, d: Any) -> None:
    """Write the gate gradients ``d`` (B, 4H) of one step, before the activations' derivatives;
    update ``dc`` in place to the gradient reaching the previous cell state."""
    n = a.shape[1] // 4
    f, i, o, g = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
    tmp = dh * o
    tmp *= dtanh_c
    dc += tmp
    xp.multiply(dc, c_prev, out=d[:, :n])
    xp.multiply(dc, g, out=d[:, n : 2 * n])
    xp.multiply(dh, tanh_c, out=d[:, 2 * n : 3 * n])
    xp.multiply(dc, i, out=d[:, 3 * n :])
    dc *= f


class LSTMSequenceFn(Function):
    """The LSTM layer over all time steps as one primitive (back-propagation through time).

    Inputs: ``x`` (B, T, F), ``w_ih`` (F, 4H), ``b`` (4H,), ``w_hh`` (H, 4H); gate blocks in
    the order f, i, o, g. Output: the hidden states (B, T, H). The input projection of all
    steps is one matrix product; each step adds one (B, H) x (H, 4H) product. Optional
    parameters ``h0``/``c0`` (arrays, not differentiated) give the initial state; the final
    state is kept in ``h_last``/``c_last``.
    """

    op_name = "lstm"
    h0: Any = None
    c0: Any = None

    def forward(self, x: Any, w_ih: Any, b: Any, w_hh: Any) -> Any:
        """Run the recurrence, keeping the gate activations and states for backward."""
        xp = get_array_module(x)
        batch, steps, n_in = x.shape
        n = w_hh.shape[0]
        half = xp.ones(4 * n, dtype=w_hh.dtype)
        half[: 3 * n] = 0.5  # see _lstm_cell
        self.xt = x.transpose(1, 0, 2).reshape(steps * batch, n_in)  # time-major copy
        zs = (self.xt @ (w_ih * half)).reshape(steps, batch, 4 * n)  # becomes the activations
        zs += b * half
        w_half_t = xp.ascontiguousarray((w_hh * half).T)  # (4H, H)
        prod_t = xp.empty((4 * n, batch), dtype=zs.dtype)
        hs = xp.empty((steps + 1, batch, n), dtype=zs.dtype)
        cs = xp.empty((steps + 1, batch, n), dtype=zs.dtype)
        hs[0] = 0 if self.h0 is None else self.h0
        cs[0] = 0 if self.c0 is None else self.c0
        tanh_c = xp.empty((steps, batch, n), dtype=zs.dtype)
        for t in range(steps):
            xp.matmul(w_half_t, hs[t].T, out=prod_t)  # BLAS is fastest this way round
            zs[t] += prod_t.T
            _lstm_cell(xp, zs[t], cs[t], cs[t + 1], tanh_c[t], hs[t + 1])
        self.acts, self.hs, self.cs, self.tanh_c = zs, hs, cs, tanh_c
        self.w_ih, self.w_hh = w_ih, w_hh
        self.h_last, self.c_last = hs[steps], cs[steps]
        return hs[1:].transpose(1, 0, 2)

    def backward(self, grad: Any) -> tuple[Any, Any, Any, Any]:
        """Back-propagate through time, newest step first; weight gradients in one product."""
        xp = get_array_module(grad)
        steps, batch, four_h = self.acts.shape
        n = four_h // 4
        d_hs = grad.transpose(1, 0, 2)
        deriv = _gate_derivatives(xp, self.acts)
        dtanh_c = 1.0 - self.tanh_c * self.tanh_c
        dz = xp.empty_like(self.acts)
        dh = xp.zeros((batch, n), dtype=grad.dtype)
        dc = xp.zeros((batch, n), dtype=grad.dtype)
        w_t = xp.ascontiguousarray(self.w_hh.T)  # BLAS is faster on it than on the view
        for t in range(steps - 1, -1, -1):
            dh += d_hs[t]
            _lstm_cell_backward(xp, self.acts[t], self.cs[t], self.tanh_c[t], dtanh_c[t], dh,
                                dc, dz[t])
            dz[t] *= deriv[t]
            dh = dz[t] @ w_t
        return self._parameter_grads(dz)

    def _parameter_grads(self, dz: Any) -> tuple[Any, Any, Any, Any]:
        """Gradients of x, w_ih, b and w_hh from the pre-activation gradients (T, B, 4H)."""
        steps, batch, four_h = dz.shape
        flat = dz.reshape(-1, four_h)
        dx = dw_ih = db = dw_hh = None
        if self.needs[0]:
            dx = (flat @ self.w_ih.T).reshape(steps, batch, -1).transpose(1, 0, 2)
        if self.needs[1]:
            dw_ih = self.xt.T @ flat
        if self.needs[2]:
            db = flat.sum(axis=0)
        if self.needs[3]:
            dw_hh = self.hs[:-1].reshape(-1, four_h // 4).T @ flat
        return dx, dw_ih, db, dw_hh


class _Recurrent(Layer):
    """Shared parameters of RNN and LSTM: ``weight_ih`` (F, G·H), ``weight_hh`` (H, G·H) and
    ``bias`` (G·H,) for G gates (1 for the RNN, 4 for the LSTM)."""

    n_inputs: int
    n_hidden: int
    gates: int
    weight_ih: Tensor
    weight_hh: Tensor
    bias: Tensor

    def reset_parameters(self) -> None:
        """Uniform in ``[-1/sqrt(H), 1/sqrt(H)]``, as PyTorch."""
        k = 1.0 / math.sqrt(self.n_hidden)
        width = self.gates * self.n_hidden
        self._set_parameter("weight_ih", np.random.uniform(-k, k, (self.n_inputs, width)))
        self._set_parameter("weight_hh", np.random.uniform(-k, k, (self.n_hidden, width)))
        self._set_parameter("bias", np.random.uniform(-k, k, width))


def _check_sequence(name: str, input: Tensor, n_inputs: int) -> None:
    if input.ndim != 3 or input.shape[2] != n_inputs:
        raise ShapeError(f"{name}: expected input (B, T, {n_inputs}), got shape {input.shape}")


class LSTM(_Recurrent):
    """An LSTM run over a whole sequence, returning every hidden state.

    Parameters
    ----------
    n_inputs : int
        Input features F.
    n_hidden : int
        Hidden size H.

    Shape
    -----
    Input (B, T, F); output (B, T, H), the hidden state after each step (starting from zeros).

    Notes
    -----
    ``weight_ih`` (F, 4H), ``weight_hh`` (H, 4H) and ``bias`` (4H,) hold the gate blocks in the
    order f, i, o, g (the book's xf/xi/xo/xc), initialised uniformly in
    ``[-1/sqrt(H), 1/sqrt(H)]`` as PyTorch. The input projection of all time steps is one
    matrix product; each step then needs one (B, H) x (H, 4H) product::

        z_t = x_t @ weight_ih + bias + h_{t-1} @ weight_hh
        f, i, o = sigmoid(z_t[f]), sigmoid(z_t[i]), sigmoid(z_t[o]);  g = tanh(z_t[g])
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    The recurrence is one primitive (:class:`LSTMSequenceFn`) with a hand-written
    back-propagation through time; its gradient is checked against the book's ``LSTMCell``.

    Examples
    --------
    >>> lstm = LSTM(3, 4)
    >>> lstm(Tensor(np.zeros((2, 5, 3)))).shape
    (2, 5, 4)
    """

    def __init__(self, n_inputs: int, n_hidden: int) -> None:
        super().__init__()
        self.n_inputs, self.n_hidden = int(n_inputs), int(n_hidden)
        self.gates = 4
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        """Return the hidden states (B, T, H) for the input sequence (B, T, F)."""
        _check_sequence("LSTM", input, self.n_inputs)
        return LSTMSequenceFn.apply(input, self.weight_ih, self.bias, self.weight_hh)

    def run(self, input: Any, state: tuple[Any, Any] | None = None) -> tuple[Any, tuple[Any, Any]]:
        """Inference without a graph, carrying the state: return ``(hidden_states, (h, c))``.

        ``input`` is an array (B, T, F); ``state`` a pair of (B, H) arrays or None (zeros).
        Used to generate sequences one step at a time.
        """
        x = input.data if isinstance(input, Tensor) else input
        fn = LSTMSequenceFn(h0=None if state is None else state[0],
                            c0=None if state is None else state[1])
        out = fn.forward(x, self.weight_ih.data, self.bias.data, self.weight_hh.data)
        return out, (fn.h_last.copy(), fn.c_last.copy())

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}"


class RNN(_Recurrent):
    """An Elman RNN run over a whole sequence, returning every hidden state.

    Parameters
    ----------
    n_inputs : int
        Input features F.
    n_hidden : int
        Hidden size H.
    activation : {'tanh', 'sigmoid', 'relu'}
        Non-linearity.

    Shape
    -----
    Input (B, T, F); output (B, T, H).

    Notes
    -----
    ``h_t = act(x_t @ weight_ih + bias + h_{t-1} @ weight_hh)`` with ``h_0 = 0``; the input
    projection of all steps is one product. Initialisation uniform in ``[-1/sqrt(H),
    1/sqrt(H)]``. Built from differentiable primitives (the step-through debugger sees every
    step).

    Examples
    --------
    >>> RNN(3, 4)(Tensor(np.zeros((2, 5, 3)))).shape
    (2, 5, 4)
    """

    def __init__(self, n_inputs: int, n_hidden: int, activation: str = "tanh") -> None:
        super().__init__()
        self.activation = activation_layer(activation)
        self.activation_name = activation
        self.n_inputs, self.n_hidden = int(n_inputs), int(n_hidden)
        self.gates = 1
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        """Return the hidden states (B, T, H) for the input sequence (B, T, F)."""
        _check_sequence("RNN", input, self.n_inputs)
        batch, steps, _ = input.shape
        flat = input.reshape(batch * steps, self.n_inputs).mm(self.weight_ih) + self.bias
        xproj = flat.reshape(batch, steps, self.n_hidden)
        states = []
        h = None
        for t in range(input.shape[1]):
            z = xproj[:, t] if h is None else xproj[:, t] + h.mm(self.weight_hh)
            h = self.activation.forward(z)
            states.append(h)
        return stack(states, dim=1)

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}, activation={self.activation_name!r}"
