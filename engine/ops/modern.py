"""Ops of modern networks: GELU, SiLU, permute, masked_fill, variance and a masked softmax."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine import kernels
from engine.backend import get_array_module
from engine.errors import EngineError, ShapeError
from engine.ops.activation import softmax as plain_softmax
from engine.ops.erf import erf, normal_cdf
from engine.ops.function import Function
from engine.ops.kernel_call import elementwise
from engine.ops.reduce import normalize_dims
from engine.ops.shape import Transpose
from engine.tensor import Tensor

__all__ = [
    "Gelu",
    "MaskedFill",
    "MaskedSoftmax",
    "Silu",
    "Var",
    "erf",
    "gelu",
    "permute",
    "softmax",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_LOG_INV_SQRT_2PI = -0.5 * math.log(2.0 * math.pi)


class Gelu(Function):
    """``x * Phi(x)`` with Phi the normal CDF (exact, via erf), or PyTorch's tanh approximation
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` when ``approximate == 'tanh'``."""

    float_only = True
    op_name = "gelu"
    approximate: str = "none"

    def forward(self, a: Any) -> Any:
        self.a = a
        if self.approximate == "tanh":
            xp = get_array_module(a)
            self.t = xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a))
            return 0.5 * a * (1.0 + self.t)
        if type(a) is np.ndarray:
            self.cdf, out = elementwise(kernels.gaussian.gelu_forward, a, outputs=2)
            return out
        self.cdf = normal_cdf(a)
        return a * self.cdf

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a = self.a
        if self.approximate == "tanh":
            t = self.t
            inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * a * a)
            return (grad * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * inner),)
        if type(a) is np.ndarray:
            return (elementwise(kernels.gaussian.gelu_backward, a, self.cdf, grad)[0],)
        xp = get_array_module(a)
        d = xp.multiply(a, a)  # becomes Phi'(a), then GELU'(a), then the gradient, in place
        d *= -0.5
        d += _LOG_INV_SQRT_2PI
        xp.exp(d, out=d)
        d *= a
        d += self.cdf
        d *= grad
        return (d,)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU of ``x``: exact (``approximate='none'``) or PyTorch's ``'tanh'`` approximation.

    Raises
    ------
    EngineError
        If ``approximate`` is neither ``'none'`` nor ``'tanh'``.
    """
    if approximate not in ("none", "tanh"):
        raise EngineError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate=approximate)


class Silu(Function):
    """``x * sigmoid(x)`` (also called swish)."""

    float_only = True
    op_name = "silu"

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        self.a, self.s = a, xp.tanh(a * 0.5) * 0.5 + 0.5
        return a * self.s

    def backward(self, grad: Any) -> tuple[Any, ...]:
        s = self.s
        return (grad * s * (1.0 + self.a * (1.0 - s)),)


def permute(x: Tensor, dims: tuple[Any, ...]) -> Tensor:
    """Reorder ``x``'s axes: output axis i is input axis ``dims[i]`` (negative dims count from
    the end), as ``torch.permute``.

    Raises
    ------
    ShapeError
        If ``dims`` is not an ordering of ``x``'s axes.

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor(np.zeros((2, 3, 4))).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    axes = tuple(int(d) % x.ndim if x.ndim else 0 for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {tuple(dims)} are not an ordering of the {x.ndim} axes")
    return Transpose.apply(x, axes=axes)


class MaskedFill(Function):
    """``value`` where the boolean ``mask`` (broadcast to the input) is True, the input elsewhere;
    no gradient flows to the filled places."""

    op_name = "masked_fill"
    mask: Any
    value: float

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        mask = self.mask.data if isinstance(self.mask, Tensor) else self.mask
        self.keep = ~xp.broadcast_to(xp.asarray(mask, dtype=bool), a.shape)
        return xp.where(self.keep, a, xp.asarray(self.value, dtype=a.dtype))

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.keep,)


class Var(Function):
    """Population variance (divided by N, NumPy's default and LayerNorm's) over ``dim``."""

    float_only = True
    op_name = "var"
    dim: Any
    keepdims: bool

    def forward(self, a: Any) -> Any:
        axes = normalize_dims(self.op_name, self.dim, a.ndim)
        self.centred = a - a.mean(axis=axes, keepdims=True)
        self.axes, self.count = axes, max(math.prod(a.shape[i] for i in axes), 1)
        return (self.centred * self.centred).mean(axis=axes, keepdims=self.keepdims)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if not self.keepdims and self.axes:
            grad = get_array_module(grad).expand_dims(grad, self.axes)
        return (grad * self.centred * (2.0 / self.count),)


class MaskedSoftmax(Function):
    """Softmax over ``dim`` where places with a True ``mask`` (broadcast) get probability 0.

    A row whose every place is masked gives zeros (not NaN). ``mask`` None is a plain softmax,
    done as one primitive (faster than the composite for attention).
    """

    float_only = True
    op_name = "softmax"
    dim: int
    mask: Any = None

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        if self.mask is not None:
            mask = self.mask.data if isinstance(self.mask, Tensor) else self.mask
            a = xp.where(xp.asarray(mask, dtype=bool), -np.inf, a)
        peak = a.max(axis=self.dim, keepdims=True)
        e = xp.exp(a - xp.where(xp.isfinite(peak), peak, 0))
        total = e.sum(axis=self.dim, keepdims=True)
        self.out = e / xp.where(total > 0, total, 1)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        s = self.out
        return (s * (grad - (grad * s).sum(axis=self.dim, keepdims=True)),)


def softmax(x: Tensor, dim: int = -1, mask: Any = None) -> Tensor:
    """Softmax over ``dim``; where the boolean ``mask`` (broadcast to ``x``) is True the
    probability is 0 (True means "masked out", as in :meth:`Tensor.masked_fill`).

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor([[1.0, 2.0, 3.0]]).softmax(mask=np.array([False, True, False]))[0, 1]
    array(0., dtype=float32)
    """
    if not -x.ndim <= dim < max(x.ndim, 1):
        raise ShapeError(f"softmax: dim {dim} is out of range for a tensor with {x.ndim} dims")
    if mask is None:
        return plain_softmax(x, dim)
    return MaskedSoftmax.apply(x, dim=dim, mask=mask)
