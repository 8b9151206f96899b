"""Dense and lookup layers: ``Linear`` and ``Embedding`` (the book's initialisations)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.nn.module import Layer
from engine.tensor import Tensor

__all__ = ["Embedding", "Linear"]


class Linear(Layer):
    """Affine map ``y = x @ weight + bias``.

    Parameters
    ----------
    n_inputs : int
        Input features.
    n_outputs : int
        Output features.
    bias : bool
        Add a bias (the book's ``use_bias``).

    Shape
    -----
    Input (..., n_inputs), output (..., n_outputs): a leading batch axis, or any number of
    leading axes (e.g. (B, T, F)).

    Notes
    -----
    As the book: ``weight`` has shape (n_inputs, n_outputs) drawn as
    ``np.random.randn(n_inputs, n_outputs) * sqrt(2 / n_inputs)`` (He) from NumPy's global RNG;
    ``bias`` has shape (n_outputs,) and starts at zero; parameter order ``[weight, bias]``.

    Examples
    --------
    >>> layer = Linear(4, 3)
    >>> layer(Tensor(np.ones((2, 4)))).shape
    (2, 3)
    """

    weight: Tensor
    bias: Tensor

    def __init__(self, n_inputs: int, n_outputs: int, bias: bool = True) -> None:
        super().__init__()
        self.n_inputs, self.n_outputs, self.use_bias = int(n_inputs), int(n_outputs), bias
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He initialisation as the book: ``randn(in, out) * sqrt(2 / in)``, zero bias."""
        w = np.random.randn(self.n_inputs, self.n_outputs) * math.sqrt(2.0 / self.n_inputs)
        self._set_parameter("weight", w)
        if self.use_bias:
            self._set_parameter("bias", np.zeros(self.n_outputs))

    def forward(self, input: Tensor) -> Tensor:
        """Return ``input @ weight (+ bias)``."""
        out: Tensor
        if input.ndim == 2:
            out = input.mm(self.weight)
            return out + self.bias if self.use_bias else out
        lead = input.shape[:-1]  # (B, T, F): one 2-D product, cheaper than a batched one
        out = input.reshape(-1, self.n_inputs).mm(self.weight)
        out = out + self.bias if self.use_bias else out
        return out.reshape(*lead, self.n_outputs)

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_outputs}, bias={self.use_bias}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.Linear(n_inputs, n_outputs, bias)``: ``weight`` (n_outputs,
        n_inputs) is this layer's weight transposed, ``bias`` the same."""
        state = OrderedDict(weight=np.ascontiguousarray(self.weight.numpy().T))
        if self.use_bias:
            state["bias"] = self.bias.numpy()
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"].T)
        if self.use_bias:
            self._set_parameter("bias", arrays["bias"])


class Embedding(Layer):
    """Lookup table of ``vocab_size`` vectors of length ``dim``.

    Parameters
    ----------
    vocab_size : int
        Number of rows (token ids 0 .. vocab_size - 1).
    dim : int
        Vector length.

    Shape
    -----
    Input: integer ids of any shape S (a Tensor or array); output S + (dim,).

    Notes
    -----
    As the book: ``weight = (np.random.rand(vocab_size, dim) - 0.5) / dim``.

    Examples
    --------
    >>> emb = Embedding(10, 4)
    >>> emb(Tensor(np.array([[1, 2, 3]]))).shape
    (1, 3, 4)
    """

    weight: Tensor

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The book's initialisation: ``(rand(vocab_size, dim) - 0.5) / dim``."""
        self._set_parameter("weight", (np.random.rand(self.vocab_size, self.dim) - 0.5) / self.dim)

    def forward(self, input: Any) -> Tensor:
        """Return the rows of ``weight`` selected by the ids in ``input``."""
        return self.weight.index_select(input)

    def extra_repr(self) -> str:
        return f"{self.vocab_size}, {self.dim}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.Embedding(vocab_size, dim)``: ``weight``, the same table."""
        return OrderedDict(weight=self.weight.numpy())

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"])
