"""Every op's backward against central finite differences, in float64, on each device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import Tensor, gradcheck


def make(xp: Any, shape: tuple[int, ...], seed: int, low: float | None = None) -> Tensor:
    """A float64 autograd tensor of random values (in [low, low + 1.5] when ``low`` is given)."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(low, low + 1.5, shape) if low is not None else rng.standard_normal(shape)
    return Tensor(xp.asarray(data), autograd=True, dtype=np.float64)


BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((), (2, 3)),
    ((2, 1, 3), (4, 1)),
    ((1,), (1,)),
]

BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary_broadcasting(op: str, shapes: Any, xp: Any) -> None:
    a = make(xp, shapes[0], 1)
    b = make(xp, shapes[1], 2, low=0.5 if op == "div" else None)
    assert gradcheck(BINARY[op], [a, b])


UNARY: dict[str, tuple[Callable[[Tensor], Tensor], float | None]] = {
    "neg": (lambda x: -x, None),
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), 0.2),
    "sqrt": (lambda x: x.sqrt(), 0.2),
    "abs": (lambda x: x.abs(), 0.1),
    "abs_neg": (lambda x: (-x).abs(), 0.1),
    "pow2": (lambda x: x**2, None),
    "pow_half": (lambda x: x**0.5, 0.2),
    "pow_neg": (lambda x: x**-1.5, 0.2),
    "clip": (lambda x: x.clip(-0.5, 0.5), None),
    "clip_lo": (lambda x: x.clip(0.0, None), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "tanh": (lambda x: x.tanh(), None),
    "relu": (lambda x: x.relu(), None),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), None),
    "softmax": (lambda x: x.softmax(), None),
    "softmax_0": (lambda x: x.softmax(0), None),
    "log_softmax": (lambda x: x.log_softmax(), None),
    "sum": (lambda x: x.sum(), None),
    "sum_0": (lambda x: x.sum(0), None),
    "sum_keep": (lambda x: x.sum(-1, keepdims=True), None),
    "mean": (lambda x: x.mean(), None),
    "mean_0_keep": (lambda x: x.mean(0, keepdims=True), None),
    "max": (lambda x: x.max(), None),
    "max_last": (lambda x: x.max(-1), None),
    "expand_0": (lambda x: x.expand(0, 3), None),
    "expand_last": (lambda x: x.expand(x.ndim, 2), None),
    "transpose": (lambda x: x.transpose(), None),
    "T": (lambda x: x.T * 1.0, None),
    "reshape": (lambda x: x.reshape(-1), None),
    "flatten0": (lambda x: x.flatten(0), None),
    "getitem_slice": (lambda x: x[::2], None),
    "getitem_ints": (lambda x: x[[0, 0, -1]], None),
    "getitem_last": (lambda x: x[..., -1], None),
    "scalar_rsub": (lambda x: 2.0 - x * 3, None),
    "scalar_rdiv": (lambda x: 1.0 / (x * x + 1), None),
    "ndarray_rmul": (lambda x: np.arange(x.shape[-1]) * x if x.device == "cpu" else x, None),
}

UNARY_SHAPES = [(3,), (2, 3), (1, 4), (2, 1, 3)]


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary(op: str, shape: tuple[int, ...], xp: Any) -> None:
    fn, low = UNARY[op]
    x = make(xp, shape, 3, low=low)
    assert gradcheck(fn, [x])


def test_scalar_tensor_ops(xp: Any) -> None:
    x = make(xp, (), 4, low=0.5)
    assert gradcheck(lambda t: (t * t + t.exp()).log().sigmoid(), [x])


MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((2, 3, 4), (4, 5)),
    ((5,), (5, 3)),
    ((2, 3, 4), (4,)),
    ((4,), (4,)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 2, 3), (3, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes: Any, xp: Any) -> None:
    a, b = make(xp, shapes[0], 5), make(xp, shapes[1], 6)
    assert gradcheck(lambda p, q: p @ q, [a, b])


def test_mm_book(xp: Any) -> None:
    a, b = make(xp, (4, 3), 7), make(xp, (3, 2), 8)
    assert gradcheck(lambda p, q: p.mm(q), [a, b])
    assert gradcheck(lambda p, q: q.transpose().mm(p.transpose()), [a, b])


def test_transpose_axes(xp: Any) -> None:
    x = make(xp, (2, 3, 4), 9)
    assert gradcheck(lambda t: t.transpose(1, 2, 0) * make(xp, (3, 4, 2), 10), [x])


def test_sum_and_max_several_axes(xp: Any) -> None:
    x = make(xp, (2, 3, 4), 11)
    assert gradcheck(lambda t: t.sum((0, 2)), [x])
    assert gradcheck(lambda t: t.max((0, 2), keepdims=True), [x])


def test_getitem_advanced(xp: Any) -> None:
    x = make(xp, (4, 5), 12)
    assert gradcheck(lambda t: t[[0, 3, 3], [1, 1, 4]], [x])
    assert gradcheck(lambda t: t[1:3, [0, 0, 2]], [x])
    assert gradcheck(lambda t: t[None, 2], [x])
    idx = Tensor(xp.asarray([[1, 1], [2, 0]]))
    assert gradcheck(lambda t: t[idx], [x])


def test_index_select_repeats(xp: Any) -> None:
    w = make(xp, (5, 3), 13)
    idx = Tensor(xp.asarray([[0, 1, 1], [4, 1, 0]]))
    assert gradcheck(lambda t: t.index_select(idx), [w])


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (1, 2)], ids=str)
def test_cross_entropy(shape: tuple[int, ...], xp: Any) -> None:
    x = make(xp, shape, 14)
    rng = np.random.default_rng(15)
    target = Tensor(xp.asarray(rng.integers(0, shape[-1], shape[:-1])))
    assert gradcheck(lambda t: t.cross_entropy(target), [x])


def test_concat_and_stack(xp: Any) -> None:
    a, b, c = make(xp, (2, 3), 16), make(xp, (1, 3), 17), make(xp, (2, 3), 18)
    assert gradcheck(lambda p, q: engine.concat([p, q], dim=0), [a, b])
    assert gradcheck(lambda p, q: engine.concat([p, q.T], dim=-1), [a, make(xp, (3, 2), 19)])
    assert gradcheck(lambda p, q: engine.stack([p, q], dim=1), [a, c])


def test_dropout_with_fixed_mask(xp: Any) -> None:
    x = make(xp, (3, 4), 20)

    def fn(t: Tensor) -> Tensor:
        xp.random.seed(0)
        return t.dropout(0.3, training=True)

    assert gradcheck(fn, [x])


def test_composite_mlp(xp: Any) -> None:
    x, w1, b1 = make(xp, (5, 3), 21), make(xp, (3, 4), 22), make(xp, (4,), 23)
    w2 = make(xp, (4, 2), 24)
    target = Tensor(xp.asarray([0, 1, 1, 0, 1]))

    def net(x_: Tensor, w1_: Tensor, b1_: Tensor, w2_: Tensor) -> Tensor:
        return ((x_ @ w1_ + b1_).tanh().mm(w2_)).cross_entropy(target)

    assert gradcheck(net, [x, w1, b1, w2])


def test_gradcheck_reports_a_wrong_backward() -> None:
    class Wrong(engine.Function):
        op_name = "wrong"

        def forward(self, a: Any) -> Any:
            return a * a

        def backward(self, grad: Any) -> tuple[Any, ...]:
            return (grad,)

    x = make(np, (3,), 25)
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: Wrong.apply(t), [x])


def test_gradcheck_refuses_float32() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [Tensor([1.0], autograd=True)])
