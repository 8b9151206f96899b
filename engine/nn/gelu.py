"""The smooth activations of modern networks: ``GELU`` and ``SiLU``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.errors import EngineError
from engine.nn.module import Layer
from engine.nn.torch_state import checked
from engine.tensor import Tensor

__all__ = ["GELU", "SiLU", "StatelessTorchMixin"]


class StatelessTorchMixin:
    """``torch_state_dict`` / ``load_torch_state_dict`` of a layer without parameters."""

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The counterpart's state dict: empty."""
        return OrderedDict()

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Accept an empty state dict; any key raises :class:`EngineError`."""
        checked(type(self).__name__, state_dict, {})


class GELU(StatelessTorchMixin, Layer):
    """Gaussian error linear unit ``x * Phi(x)``, as ``torch.nn.GELU``.

    Parameters
    ----------
    approximate : {'none', 'tanh'}
        ``'none'`` computes Phi exactly with erf; ``'tanh'`` uses
        ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Examples
    --------
    >>> GELU()(Tensor([0.0, 1.0]))
    array([0.       , 0.8413447], dtype=float32)
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise EngineError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """Return ``gelu(input)``."""
        return input.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(StatelessTorchMixin, Layer):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``, as ``torch.nn.SiLU``."""

    def forward(self, input: Tensor) -> Tensor:
        """Return ``silu(input)``."""
        return input.silu()
