"""``Sequential``: a chain of layers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from engine.nn.module import Layer
from engine.nn.torch_state import sub_state, with_prefix

__all__ = ["Sequential"]


class Sequential(Layer):
    """Apply layers one after the other (the book's container).

    Parameters
    ----------
    layers : iterable of Layer or None
        The layers in order; each is registered under its index (``"0"``, ``"1"``, ...), so
        the state-dict keys read ``0.weight``, ``0.bias``, ``2.weight`` ... Unlike the book,
        the default is a fresh list (no list shared between instances).

    Examples
    --------
    >>> import numpy as np
    >>> from engine import Linear, Relu, Tensor
    >>> model = Sequential([Linear(2, 3), Relu(), Linear(3, 1)])
    >>> model.forward(Tensor(np.zeros((4, 2)))).shape
    (4, 1)
    >>> len(model.get_parameters())
    4
    """

    def __init__(self, layers: Iterable[Layer] | None = None) -> None:
        super().__init__()
        self.layers: list[Layer] = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append ``layer``."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer, got {type(layer).__name__}")
        setattr(self, str(len(self.layers)), layer)
        self.layers.append(layer)

    def forward(self, input: Any) -> Any:
        """Run ``input`` through every layer in order."""
        for layer in self.layers:
            input = layer.forward(input)
        return input

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of the ``nn.Sequential`` of the layers' counterparts: each layer's keys
        preceded by its index (``0.weight``, ``0.bias``, ``2.weight``, ...)."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for index, layer in enumerate(self.layers):
            state.update(with_prefix(f"{index}.", layer.torch_state_dict()))
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for index, layer in enumerate(self.layers):
            layer._load_torch_arrays(sub_state(arrays, f"{index}."))
