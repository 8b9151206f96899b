"""Elementwise arithmetic: add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clip.

Binary ops broadcast as NumPy does; their backward reduces each gradient to its operand's shape
with :func:`engine.autograd.unbroadcast`.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

from engine.backend import get_array_module
from engine.ops.function import Function, unbroadcast
from engine.tensor import Tensor

__all__ = ["Abs", "Add", "Clip", "Div", "Exp", "Log", "Mul", "Neg", "Pow", "Sqrt", "Sub", "pow_"]


class Add(Function):
    """``a + b``."""

    __slots__ = ("shapes",)
    op_name = "add"

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        sa, sb = self.shapes
        shape = grad.shape
        if sa == shape and sb == shape:
            return grad, grad
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    """``a - b``."""

    __slots__ = ("shapes",)
    op_name = "sub"

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        gb = unbroadcast(-grad, self.shapes[1]) if self.needs[1] else None
        return unbroadcast(grad, self.shapes[0]), gb


class Mul(Function):
    """``a * b`` elementwise."""

    __slots__ = ("a", "b")
    op_name = "mul"

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.a, self.b
        ga = unbroadcast(grad * b, a.shape) if self.needs[0] else None
        gb = unbroadcast(grad * a, b.shape) if self.needs[1] else None
        return ga, gb


class Div(Function):
    """``a / b`` elementwise."""

    float_only = True
    __slots__ = ("a", "b")
    op_name = "div"

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a / b

    def backward(self, grad: Any) -> tuple[Any, ...]:
        a, b = self.a, self.b
        ga = unbroadcast(grad / b, a.shape) if self.needs[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if self.needs[1] else None
        return ga, gb


class Neg(Function):
    """``-a``."""

    op_name = "neg"

    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (-grad,)


class Pow(Function):
    """``a ** exponent`` for a scalar exponent."""

    float_only = True
    op_name = "pow"
    exponent: float

    def forward(self, a: Any) -> Any:
        self.a = a
        return a**self.exponent

    def backward(self, grad: Any) -> tuple[Any, ...]:
        p = self.exponent
        if p == 0:
            return (grad * 0,)
        return (grad * p * self.a ** (p - 1),)


def pow_(x: Tensor, exponent: Any) -> Tensor:
    """Return ``x ** exponent``; the exponent must be a number.

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor([1.0, 2.0, 3.0]) ** 2
    array([1., 4., 9.], dtype=float32)
    """
    if isinstance(exponent, Tensor) and exponent.size == 1 and not exponent.autograd:
        exponent = exponent.item()
    if not isinstance(exponent, Number):
        raise TypeError(f"pow: the exponent must be a number, got {type(exponent).__name__}")
    integral = isinstance(exponent, int) and exponent >= 0  # int ** int stays int
    return Pow.apply(x, exponent=exponent, float_only=not integral)


class Exp(Function):
    """``exp(a)``."""

    float_only = True
    __slots__ = ("out",)
    op_name = "exp"

    def forward(self, a: Any) -> Any:
        self.out = get_array_module(a).exp(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.out,)


class Log(Function):
    """Natural logarithm."""

    float_only = True
    __slots__ = ("a",)
    op_name = "log"

    def forward(self, a: Any) -> Any:
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad / self.a,)


class Sqrt(Function):
    """Square root."""

    float_only = True
    __slots__ = ("out",)
    op_name = "sqrt"

    def forward(self, a: Any) -> Any:
        self.out = get_array_module(a).sqrt(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * 0.5 / self.out,)


class Abs(Function):
    """Absolute value; the gradient at 0 is 0."""

    __slots__ = ("a",)
    op_name = "abs"

    def forward(self, a: Any) -> Any:
        self.a = a
        return abs(a)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * get_array_module(self.a).sign(self.a),)


class Clip(Function):
    """Clamp into ``[lo, hi]`` (either bound may be None)."""

    op_name = "clip"
    lo: float | None
    hi: float | None

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        self.mask = xp.ones(a.shape, dtype=bool)
        if self.lo is not None:
            self.mask &= a >= self.lo
        if self.hi is not None:
            self.mask &= a <= self.hi
        if self.lo is None and self.hi is None:
            return a.copy()
        return xp.clip(a, self.lo, self.hi)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad * self.mask,)
