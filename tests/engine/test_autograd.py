"""Backward: accumulation, diamonds, long chains, step-through, no_grad, tagging, errors."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import EngineError, Tensor
from engine.autograd import BackwardStep, backward_steps


def test_book_part4_reuse_accumulates() -> None:
    a = Tensor([1, 2, 3, 4, 5], autograd=True)
    b = Tensor([2, 2, 2, 2, 2], autograd=True)
    c = Tensor([5, 4, 3, 2, 1], autograd=True)
    d = a + b
    e = b + c
    f = d + e
    f.backward(Tensor(np.array([1, 1, 1, 1, 1])))
    assert (b.grad.data == 2).all()


def test_book_part5_neg_sub_mul() -> None:
    a = Tensor([1, 2, 3, 4, 5], autograd=True)
    b = Tensor([2, 2, 2, 2, 2], autograd=True)
    c = Tensor([5, 4, 3, 2, 1], autograd=True)
    f = (a + (-b)) + (-b + c)
    f.backward()
    assert (b.grad.data == -2).all()
    g = Tensor([1.0, 2.0], autograd=True)
    h = Tensor([3.0, 4.0], autograd=True)
    (g * h - h).backward()
    np.testing.assert_allclose(g.grad.data, [3, 4])
    np.testing.assert_allclose(h.grad.data, [0, 1])


def test_diamond_computes_each_op_once() -> None:
    calls = []

    class Counted(engine.Function):
        op_name = "counted"

        def forward(self, a):
            return a * 1.0

        def backward(self, grad):
            calls.append(1)
            return (grad,)

    x = Tensor([1.0, 2.0], autograd=True)
    top = Counted.apply(x)
    left, right = top * 2, top * 3
    (left + right).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5, 5])
    assert len(calls) == 1


def test_deep_diamond_ladder_is_linear() -> None:
    x = Tensor([1.0], autograd=True)
    y = x
    for _ in range(200):
        y = y * 0.5 + y * 0.5  # each level doubles the paths: 2**200 without memoisation
    y.backward()
    np.testing.assert_allclose(x.grad.data, [1.0], rtol=1e-4)


def test_chain_of_200k_ops_needs_no_recursion() -> None:
    x = Tensor([0.0], autograd=True)
    y = x
    for _ in range(200_000):
        y = y + 1.0
    steps = sum(1 for _ in backward_steps(y))
    assert steps == 200_000
    assert x.grad.data.tolist() == [1.0]
    assert y.data.tolist() == [200_000.0]


def test_leaf_grads_accumulate_across_backwards_until_zeroed() -> None:
    w = Tensor([1.0, 2.0], autograd=True)
    for _ in range(3):
        (w * 2).sum().backward()
    np.testing.assert_allclose(w.grad.data, [6, 6])
    grad_object = w.grad
    w.grad.data *= 0  # the book's SGD zeroes in place
    (w * 2).sum().backward()
    assert w.grad is grad_object
    np.testing.assert_allclose(w.grad.data, [2, 2])


def test_two_leaves_never_share_a_grad_array() -> None:
    a = Tensor([1.0], autograd=True)
    b = Tensor([2.0], autograd=True)
    (a + b).backward()
    a.grad.data *= 0
    assert b.grad.data.tolist() == [1.0]


def test_intermediate_grad_is_exact_and_fresh_per_backward() -> None:
    x = Tensor([1.0, 2.0], autograd=True)
    h = x * 3
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(h.grad.data, [6, 12])
    y.backward()
    np.testing.assert_allclose(h.grad.data, [6, 12])
    np.testing.assert_allclose(x.grad.data, [36, 72])


def test_second_backward_through_freed_graph_raises() -> None:
    x = Tensor([1.0], autograd=True)
    y = (x * 2).sigmoid()
    y.backward()
    with pytest.raises(EngineError, match="retain_graph"):
        y.backward()
    z = y.creators[0] + 1  # a new op on a freed intermediate
    with pytest.raises(EngineError, match="freed"):
        z.backward()


def test_backward_outside_a_graph_raises() -> None:
    with pytest.raises(EngineError, match="not part of any graph"):
        Tensor([1.0]).backward()
    with engine.no_grad():
        y = Tensor([1.0], autograd=True) * 2
    with pytest.raises(EngineError, match="not part of any graph"):
        y.backward()


def test_backward_grad_shape_checked() -> None:
    y = Tensor([1.0, 2.0], autograd=True) * 2
    with pytest.raises(engine.ShapeError, match=r"\(3,\)"):
        y.backward(np.ones(3))


def test_backward_on_a_leaf_accumulates() -> None:
    w = Tensor([1.0, 2.0], autograd=True)
    w.backward()
    w.backward()
    np.testing.assert_allclose(w.grad.data, [2, 2])


def test_non_autograd_operands_get_no_grad() -> None:
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], autograd=True)
    y = x * w
    assert y.autograd and y.creators == [x, w]
    y.sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad.data, [1, 2])


def test_backward_steps_order_and_contents() -> None:
    x = Tensor([[1.0, 2.0]], autograd=True)
    w = Tensor([[1.0], [1.0]], autograd=True)
    h = x.mm(w)
    out = h.sigmoid().sum(0)
    gen = backward_steps(out)
    first = next(gen)
    assert isinstance(first, BackwardStep)
    assert first.tensor is out and first.creation_op == "sum_0"
    assert first.creators[0].grad is not None  # updated before the step is yielded
    assert w.grad is None
    ops = [step.creation_op for step in gen]
    assert ops == ["sigmoid", "mm"]
    assert w.grad is not None and x.grad is not None


def test_no_grad_builds_no_graph_and_restores() -> None:
    w = Tensor([1.0], autograd=True)
    assert engine.is_grad_enabled()
    with engine.no_grad():
        assert not engine.is_grad_enabled()
        y = (w * 2).tanh()
    assert engine.is_grad_enabled()
    assert not y.autograd and y.creators is None and y.creation_op is None


def test_tagging_marks_tensors_and_nests() -> None:
    x = Tensor([1.0], autograd=True)
    with engine.tagging("n1"):
        a = x * 2
        with engine.tagging(("n2", 0)):
            b = a + 1
        c = b.exp()
    d = c * 1
    assert (a.tag, b.tag, c.tag, d.tag, x.tag) == ("n1", ("n2", 0), "n1", None, None)


def test_function_subclass_with_params() -> None:
    class Scale(engine.Function):
        op_name = "scale"

        def forward(self, a):
            return a * self.factor

        def backward(self, grad):
            return (grad * self.factor,)

    x = Tensor([1.0, 2.0], autograd=True)
    y = Scale.apply(x, factor=3.0)
    assert y.creation_op == "scale"
    y.backward()
    np.testing.assert_allclose(x.grad.data, [3, 3])


def test_unbroadcast_helper() -> None:
    from engine.autograd import unbroadcast

    g = np.ones((4, 2, 3))
    assert unbroadcast(g, (2, 3)).tolist() == [[4.0] * 3] * 2
    assert unbroadcast(g, (2, 1)).shape == (2, 1)
    assert unbroadcast(g, ()).item() == 24.0


def test_leaf_gradient_keeps_its_dtype_and_survives_mixed_backwards() -> None:
    w = Tensor(np.ones((10, 10)), autograd=True)
    (w * 2).sum().backward()
    (w * Tensor(np.ones((10, 10)), dtype=np.float64)).sum().backward()  # a float64 path
    assert w.grad.dtype == np.float32 and w.grad.data.tolist()[0][0] == 3.0
    s = Tensor([1.0], autograd=True)
    s.backward()
    s.backward(np.array([2.0]))
    assert s.grad.dtype == np.float32 and s.grad.data.tolist() == [3.0]
    i = Tensor([1, 2], autograd=True)
    i.backward(np.array([1, 1]))
    i.backward(np.array([0.5, 0.5]))
    assert i.grad.data.tolist() == [1.5, 1.5]
