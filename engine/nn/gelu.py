"""The smooth activations of modern networks: ``GELU`` and ``SiLU``."""

from __future__ import annotations

from engine.errors import EngineError
from engine.nn.module import StatelessLayer
from engine.tensor import Tensor

__all__ = ["GELU", "SiLU"]


class GELU(StatelessLayer):
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


class SiLU(StatelessLayer):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``, as ``torch.nn.SiLU``."""

    def forward(self, input: Tensor) -> Tensor:
        """Return ``silu(input)``."""
        return input.silu()
