"""Sequence layers ``RNN`` and ``LSTM``: (B, T, F) -> all hidden states (B, T, H)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.errors import EngineError, ShapeError
from engine.nn.lstm_embedded import EmbeddedLSTMFn, embedded_source
from engine.nn.lstm_sequence_fn import LSTMSequenceFn
from engine.nn.module import Layer
from engine.nn.recurrent import activation_layer
from engine.nn.torch_state import gate_order
from engine.ops import stack
from engine.tensor import Tensor

__all__ = ["LSTM", "RNN", "LSTMSequenceFn"]


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
    ``[-1/sqrt(H), 1/sqrt(H)]`` as PyTorch. Each step is one matrix product of the weights
    with ``[h_{t-1}; x_t; 1]``::

        z_t = x_t @ weight_ih + bias + h_{t-1} @ weight_hh
        f, i, o = sigmoid(z_t[f]), sigmoid(z_t[i]), sigmoid(z_t[o]);  g = tanh(z_t[g])
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    The recurrence is one primitive (:class:`LSTMSequenceFn`) with a hand-written
    back-propagation through time; its gradient is checked against the book's ``LSTMCell``.
    When the input is an ``Embedding``'s output over a small vocabulary, the lookup is folded
    into a table of input projections (:mod:`engine.nn.lstm_embedded`, which says when).

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
        source = embedded_source(input, self.weight_hh)
        if source is not None:  # an Embedding's output: one projection table instead
            table, ids = source
            return EmbeddedLSTMFn.apply(table, self.weight_ih, self.bias, self.weight_hh, ids=ids)
        return LSTMSequenceFn.apply(input, self.weight_ih, self.bias, self.weight_hh)

    def run(self, input: Any, state: tuple[Any, Any] | None = None) -> tuple[Any, tuple[Any, Any]]:
        """Inference without a graph, carrying the state: return ``(hidden_states, (h, c))``.

        ``input`` is an array (B, T, F); ``state`` a pair of (B, H) arrays or None (zeros).
        Used to generate sequences one step at a time.
        """
        x = input.data if isinstance(input, Tensor) else input
        fn = LSTMSequenceFn(
            h0=None if state is None else state[0], c0=None if state is None else state[1]
        )
        out = fn.forward(x, self.weight_ih.data, self.bias.data, self.weight_hh.data)
        dtype = self.weight_hh.dtype
        return out, (fn.h_last.astype(dtype), fn.c_last.astype(dtype))

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.LSTM(n_inputs, n_hidden, batch_first=True)``: ``weight_ih_l0``
        (4H, F), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` (4H,) and ``bias_hh_l0`` (4H,), gate
        blocks in PyTorch's order (i, f, g, o). The engine has one bias: ``bias_hh_l0`` is zero
        (loading adds PyTorch's two biases)."""
        return OrderedDict(
            weight_ih_l0=gate_order(self.weight_ih.numpy().T),
            weight_hh_l0=gate_order(self.weight_hh.numpy().T),
            bias_ih_l0=gate_order(self.bias.numpy()),
            bias_hh_l0=np.zeros(4 * self.n_hidden, dtype=self.bias.numpy().dtype),
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight_ih", gate_order(arrays["weight_ih_l0"]).T)
        self._set_parameter("weight_hh", gate_order(arrays["weight_hh_l0"]).T)
        self._set_parameter("bias", gate_order(arrays["bias_ih_l0"] + arrays["bias_hh_l0"]))


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

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.RNN(n_inputs, n_hidden, nonlinearity=activation,
        batch_first=True)``: ``weight_ih_l0`` (H, F), ``weight_hh_l0`` (H, H), ``bias_ih_l0``
        and ``bias_hh_l0`` (H,; zero, the engine has one bias; loading adds the two).

        ``nn.RNN`` has no sigmoid: a sigmoid RNN's counterpart is the loop the PyTorch export
        writes (``SigmoidRNN``), with keys ``input.weight`` (H, F), ``input.bias`` (H,) and
        ``hidden.weight`` (H, H).
        """
        w_ih, w_hh, bias = self.weight_ih.numpy(), self.weight_hh.numpy(), self.bias.numpy()
        if self.activation_name == "sigmoid":
            return OrderedDict(
                [
                    ("input.weight", w_ih.T.copy()),
                    ("input.bias", bias),
                    ("hidden.weight", w_hh.T.copy()),
                ]
            )
        if self.activation_name not in ("tanh", "relu"):
            raise EngineError(
                f"RNN(activation={self.activation_name!r}) has no PyTorch counterpart"
            )
        return OrderedDict(
            weight_ih_l0=w_ih.T.copy(),
            weight_hh_l0=w_hh.T.copy(),
            bias_ih_l0=bias,
            bias_hh_l0=np.zeros_like(bias),
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        if self.activation_name == "sigmoid":
            w_ih, w_hh, bias = arrays["input.weight"], arrays["hidden.weight"], arrays["input.bias"]
        else:
            w_ih, w_hh = arrays["weight_ih_l0"], arrays["weight_hh_l0"]
            bias = arrays["bias_ih_l0"] + arrays["bias_hh_l0"]
        self._set_parameter("weight_ih", w_ih.T)
        self._set_parameter("weight_hh", w_hh.T)
        self._set_parameter("bias", bias)
