"""Parameter-free layers: activations, softmax, dropout and reshaping."""

from __future__ import annotations

from collections.abc import Sequence

from engine.nn.module import StatelessLayer
from engine.tensor import Tensor

__all__ = ["Dropout", "Flatten", "LeakyRelu", "Relu", "Reshape", "Sigmoid", "Softmax", "Tanh"]


class Tanh(StatelessLayer):
    """Element-wise hyperbolic tangent (the book's layer)."""

    def forward(self, input: Tensor) -> Tensor:
        """Return ``tanh(input)``."""
        return input.tanh()


class Sigmoid(StatelessLayer):
    """Element-wise logistic function ``1 / (1 + exp(-x))`` (the book's layer)."""

    def forward(self, input: Tensor) -> Tensor:
        """Return ``sigmoid(input)``."""
        return input.sigmoid()


class Relu(StatelessLayer):
    """Element-wise ``max(x, 0)``."""

    def forward(self, input: Tensor) -> Tensor:
        """Return ``relu(input)``."""
        return input.relu()


class LeakyRelu(StatelessLayer):
    """Element-wise ``x if x > 0 else slope * x``.

    Parameters
    ----------
    slope : float
        Gradient for negative inputs.
    """

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def forward(self, input: Tensor) -> Tensor:
        """Return ``leaky_relu(input)``."""
        return input.leaky_relu(self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Softmax(StatelessLayer):
    """Softmax along ``dim`` (max-subtracted, so it never overflows).

    Parameters
    ----------
    dim : int
        Axis whose entries sum to one.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, input: Tensor) -> Tensor:
        """Return ``softmax(input, dim)``."""
        return input.softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(StatelessLayer):
    """Zero each element with probability ``p`` while training, scaling the rest by 1/(1-p).

    Parameters
    ----------
    p : float
        Drop probability, 0 <= p < 1. In evaluation mode (``eval()``) the layer is the identity.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, input: Tensor) -> Tensor:
        """Return the input with dropped elements (training) or unchanged (evaluation)."""
        return input.dropout(self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(StatelessLayer):
    """Merge all axes from ``start_dim`` on: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = int(start_dim)

    def forward(self, input: Tensor) -> Tensor:
        """Return the flattened input."""
        return input.flatten(self.start_dim)


class Reshape(StatelessLayer):
    """Reshape every sample: (N, ...) -> (N, *shape); ``shape`` excludes the batch axis.

    Parameters
    ----------
    shape : sequence of int
        Target shape of one sample; one entry may be -1.

    Examples
    --------
    >>> import numpy as np
    >>> Reshape((1, 8, 8))(Tensor(np.zeros((5, 64)))).shape
    (5, 1, 8, 8)
    """

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, input: Tensor) -> Tensor:
        """Return the reshaped input."""
        return input.reshape(input.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"{self.shape}"
