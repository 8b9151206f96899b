"""The book's recurrent cells, ``RNNCell`` and ``LSTMCell``, stepped one time step at a time."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from engine import backend
from engine.errors import EngineError
from engine.nn.activation import Relu, Sigmoid, Tanh
from engine.nn.linear import Linear
from engine.nn.lstm_cell_fn import FusedGates, LSTMCellFn
from engine.nn.module import Layer
from engine.nn.torch_state import gate_order, sub_state, with_prefix
from engine.tensor import Tensor

__all__ = ["LSTMCell", "RNNCell"]

_ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": Relu}


def activation_layer(name: str) -> Layer:
    """Return a fresh activation layer for ``'sigmoid'``, ``'tanh'`` or ``'relu'``."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"Non-linearity not found: {name!r} (choose from {sorted(_ACTIVATIONS)})")
    return _ACTIVATIONS[name]()


def zeros_state(like: Tensor, batch_size: int, n_hidden: int) -> Tensor:
    """Return a zero (batch_size, n_hidden) tensor on ``like``'s device with autograd on."""
    xp = backend.array_module(like.device)
    return Tensor(xp.zeros((batch_size, n_hidden), dtype=like.dtype), autograd=True)


class RNNCell(Layer):
    """One step of an Elman RNN, as in the book.

    Parameters
    ----------
    n_inputs : int
        Input features.
    n_hidden : int
        Hidden-state size.
    n_output : int
        Output features (the ``w_ho`` read-out).
    activation : {'sigmoid', 'tanh', 'relu'}
        Non-linearity of the hidden state ('tanh' works here, unlike the book).

    Notes
    -----
    ``new_hidden = act(w_ih(input) + w_hh(hidden))``, ``output = w_ho(new_hidden)``.
    Sub-layers ``w_ih``, ``w_hh``, ``w_ho`` (all Linear with bias), created in that order, so
    the parameters are ``[w_ih.weight, w_ih.bias, w_hh.weight, w_hh.bias, w_ho.weight,
    w_ho.bias]``.

    Examples
    --------
    >>> cell = RNNCell(n_inputs=3, n_hidden=5, n_output=2, activation="tanh")
    >>> hidden = cell.init_hidden(batch_size=4)
    >>> output, hidden = cell.forward(input=Tensor(np.ones((4, 3))), hidden=hidden)
    >>> output.shape, hidden.shape
    ((4, 2), (4, 5))
    """

    def __init__(
        self, n_inputs: int, n_hidden: int, n_output: int, activation: str = "sigmoid"
    ) -> None:
        super().__init__()
        self.activation = activation_layer(activation)
        self.activation_name = activation
        self.n_inputs, self.n_hidden, self.n_output = int(n_inputs), int(n_hidden), int(n_output)
        self.w_ih = Linear(n_inputs, n_hidden)
        self.w_hh = Linear(n_hidden, n_hidden)
        self.w_ho = Linear(n_hidden, n_output)

    def forward(self, input: Any, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(output, new_hidden)`` for one time step."""
        from_prev_hidden = self.w_hh.forward(hidden)
        combined = self.w_ih.forward(input) + from_prev_hidden
        new_hidden = self.activation.forward(combined)
        output = self.w_ho.forward(new_hidden)
        return output, new_hidden

    def init_hidden(self, batch_size: int = 1) -> Tensor:
        """Return a zero hidden state (batch_size, n_hidden) (the book sets column 0 to 1)."""
        return zeros_state(self.w_ih.weight, batch_size, self.n_hidden)

    def extra_repr(self) -> str:
        return (
            f"{self.n_inputs}, {self.n_hidden}, {self.n_output}, "
            f"activation={self.activation_name!r}"
        )

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of a module holding ``cell = nn.RNNCell(n_inputs, n_hidden,
        nonlinearity=activation)`` and ``output = nn.Linear(n_hidden, n_output)``: keys
        ``cell.weight_ih`` (H, F), ``cell.weight_hh`` (H, H), ``cell.bias_ih``, ``cell.bias_hh``
        (H,), ``output.weight`` (O, H), ``output.bias`` (O,).

        Raises
        ------
        EngineError
            For the sigmoid activation (the book's default), which ``nn.RNNCell`` lacks.
        """
        if self.activation_name not in ("tanh", "relu"):
            raise EngineError(
                f"RNNCell(activation={self.activation_name!r}) has no PyTorch counterpart "
                "(nn.RNNCell offers 'tanh' and 'relu')"
            )
        w_ih, w_hh = self.w_ih.torch_state_dict(), self.w_hh.torch_state_dict()
        state = OrderedDict(
            [
                ("cell.weight_ih", w_ih["weight"]),
                ("cell.weight_hh", w_hh["weight"]),
                ("cell.bias_ih", w_ih["bias"]),
                ("cell.bias_hh", w_hh["bias"]),
            ]
        )
        state.update(with_prefix("output.", self.w_ho.torch_state_dict()))
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for key, layer in (("ih", self.w_ih), ("hh", self.w_hh)):
            layer._load_torch_arrays(
                {"weight": arrays[f"cell.weight_{key}"], "bias": arrays[f"cell.bias_{key}"]}
            )
        self.w_ho._load_torch_arrays(sub_state(arrays, "output."))


class LSTMCell(Layer):
    """One step of an LSTM, as in the book (nine Linear sub-layers).

    Parameters
    ----------
    n_inputs : int
        Input features.
    n_hidden : int
        Size of the hidden and cell states.
    n_output : int
        Output features (the ``w_ho`` read-out, no bias).

    Notes
    -----
    With ``x`` the input and ``(h, c)`` the previous state::

        f = sigmoid(xf(x) + hf(h))      i = sigmoid(xi(x) + hi(h))
        o = sigmoid(xo(x) + ho(h))      g = tanh(xc(x) + hc(h))
        c' = f * c + i * g              h' = o * tanh(c')
        output = w_ho(h')

    Sub-layers in creation (and parameter) order: ``xf, xi, xo, xc`` (Linear(n_inputs,
    n_hidden) with bias), ``hf, hi, ho, hc`` (Linear(n_hidden, n_hidden, bias=False)),
    ``w_ho`` (Linear(n_hidden, n_output, bias=False)): 13 parameters.
    The gate parameters are views into one fused weight, so a step is one matrix product
    (:mod:`engine.nn.lstm_cell_fn`). For whole sequences :class:`engine.nn.LSTM` is faster.

    Examples
    --------
    >>> cell = LSTMCell(3, 5, 2)
    >>> output, (h, c) = cell.forward(input=Tensor(np.ones((4, 3))), hidden=cell.init_hidden(4))
    >>> output.shape, h.shape, c.shape, len(cell.get_parameters())
    ((4, 2), (4, 5), (4, 5), 13)
    """

    def __init__(self, n_inputs: int, n_hidden: int, n_output: int) -> None:
        super().__init__()
        self.n_inputs, self.n_hidden, self.n_output = int(n_inputs), int(n_hidden), int(n_output)
        self.xf = Linear(n_inputs, n_hidden)
        self.xi = Linear(n_inputs, n_hidden)
        self.xo = Linear(n_inputs, n_hidden)
        self.xc = Linear(n_inputs, n_hidden)
        self.hf = Linear(n_hidden, n_hidden, bias=False)
        self.hi = Linear(n_hidden, n_hidden, bias=False)
        self.ho = Linear(n_hidden, n_hidden, bias=False)
        self.hc = Linear(n_hidden, n_hidden, bias=False)
        self.w_ho = Linear(n_hidden, n_output, bias=False)
        self._gates = FusedGates(
            (self.xf, self.xi, self.xo, self.xc), (self.hf, self.hi, self.ho, self.hc)
        )

    def forward(
        self, input: Any, hidden: tuple[Tensor, Tensor]
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Return ``(output, (h, c))`` for one time step; ``hidden`` is the pair ``(h, c)``.

        The eight gate products run as one (:mod:`engine.nn.lstm_cell_fn`); ``h`` and ``c`` are
        the two halves of the step's state.
        """
        weight, bias = self._gates.arrays()
        state = LSTMCellFn.apply(
            input, hidden[0], hidden[1], *self._gates.parameters(), weight=weight, bias=bias
        )
        n = self.n_hidden
        h, c = state[:, :n], state[:, n:]
        output = self.w_ho.forward(h)
        return output, (h, c)

    def init_hidden(self, batch_size: int = 1) -> tuple[Tensor, Tensor]:
        """Return zero ``(h, c)``, each (batch_size, n_hidden) (the book sets column 0 to 1)."""
        like = self.xf.weight
        return (
            zeros_state(like, batch_size, self.n_hidden),
            zeros_state(like, batch_size, self.n_hidden),
        )

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}, {self.n_output}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of a module holding ``cell = nn.LSTMCell(n_inputs, n_hidden)`` and
        ``output = nn.Linear(n_hidden, n_output, bias=False)``: keys ``cell.weight_ih`` (4H, F),
        ``cell.weight_hh`` (4H, H), ``cell.bias_ih``, ``cell.bias_hh`` (4H,; zero, the book's
        hidden projections have no bias; loading adds the two) and ``output.weight`` (O, H).
        PyTorch's gate blocks are (i, f, g, o): the rows of ``xi``, ``xf``, ``xc``, ``xo``."""
        x_gates, h_gates = (
            (self.xf, self.xi, self.xo, self.xc),
            (self.hf, self.hi, self.ho, self.hc),
        )
        weight_ih = np.concatenate([g.weight.numpy() for g in x_gates], axis=1).T
        weight_hh = np.concatenate([g.weight.numpy() for g in h_gates], axis=1).T
        bias = np.concatenate([g.bias.numpy() for g in x_gates])
        return OrderedDict(
            [
                ("cell.weight_ih", gate_order(weight_ih)),
                ("cell.weight_hh", gate_order(weight_hh)),
                ("cell.bias_ih", gate_order(bias)),
                ("cell.bias_hh", np.zeros_like(bias)),
                ("output.weight", np.ascontiguousarray(self.w_ho.weight.numpy().T)),
            ]
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        weight_ih = np.split(gate_order(arrays["cell.weight_ih"]), 4)
        weight_hh = np.split(gate_order(arrays["cell.weight_hh"]), 4)
        bias = np.split(gate_order(arrays["cell.bias_ih"] + arrays["cell.bias_hh"]), 4)
        for k, gate in enumerate((self.xf, self.xi, self.xo, self.xc)):
            gate._load_torch_arrays({"weight": weight_ih[k], "bias": bias[k]})
        for k, gate in enumerate((self.hf, self.hi, self.ho, self.hc)):
            gate._load_torch_arrays({"weight": weight_hh[k]})
        self.w_ho._load_torch_arrays({"weight": arrays["output.weight"]})
