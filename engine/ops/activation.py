"""Activations: sigmoid, tanh, relu, leaky_relu, dropout; softmax and log_softmax (composite)."""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module
from engine.errors import EngineError
from engine.ops.function import Function
from engine.tensor import Tensor

__all__ = ["Dropout", "LeakyRelu", "Relu", "Sigmoid", "Tanh", "dropout", "log_softmax", "softmax"]


class Sigmoid(Function):
    """``1 / (1 + exp(-x))``, computed as ``(tanh(x/2) + 1) / 2`` so it never overflows."""

    float_only = True
    __slots__ = ("out",)
    op_name = "sigmoid"

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        self.out = xp.tanh(a * 0.5) * 0.5 + 0.5
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        s = self.out
        return (grad * s * (1 - s),)


class Tanh(Function):
    """Hyperbolic tangent."""

    float_only = True
    __slots__ = ("out",)
    op_name = "tanh"

    def forward(self, a: Any) -> Any:
        self.out = get_array_module(a).tanh(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        t = self.out
        return (grad * (1 - t * t),)


class Relu(Function):
    """``max(x, 0)``; the gradient at 0 is 0.

    Backward reads the output (which the graph keeps anyway) instead of a saved mask: less memory
    held per op, which on CPU is also faster.
    """

    __slots__ = ("out",)
    op_name = "relu"

    def forward(self, a: Any) -> Any:
        self.out = get_array_module(a).maximum(a, 0)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * (self.out > 0),)


class LeakyRelu(Function):
    """``x`` where positive, ``slope * x`` elsewhere."""

    op_name = "leaky_relu"
    slope: float

    def forward(self, a: Any) -> Any:
        self.factor = ((a > 0) * (1.0 - self.slope) + self.slope).astype(a.dtype)
        return a * self.factor

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.factor,)


class Dropout(Function):
    """Multiply by a random mask of zeros (probability ``p``) and ``1/(1-p)``."""

    float_only = True
    op_name = "dropout"
    p: float

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        keep = xp.random.random_sample(a.shape) >= self.p
        self.mask = keep.astype(a.dtype) * (1.0 / (1.0 - self.p))
        return a * self.mask

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.mask,)


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Inverted dropout; the identity when not training or ``p == 0``.

    Draws from the array module's global random state (``np.random.seed`` makes it repeatable).

    Raises
    ------
    EngineError
        If ``p`` is outside ``[0, 1)``.
    """
    if not 0.0 <= p < 1.0:
        raise EngineError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    return Dropout.apply(x, p=p)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim``, built from primitives; the max is subtracted first.

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor([[1.0, 1.0], [0.0, 1000.0]]).softmax()
    array([[0.5, 0.5],
           [0. , 1. ]], dtype=float32)
    """
    shifted: Tensor = x - x.data.max(axis=dim, keepdims=True)  # x.data is untyped (CuPy)
    e = shifted.exp()
    return e / e.sum(dim, keepdims=True)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log of the softmax over ``dim``: ``s - log(sum(exp(s)))`` with ``s = x - max(x)``.

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor([0.0, 0.0]).log_softmax().exp()
    array([0.5, 0.5], dtype=float32)
    """
    shifted: Tensor = x - x.data.max(axis=dim, keepdims=True)  # x.data is untyped (CuPy)
    return shifted - shifted.exp().sum(dim, keepdims=True).log()
