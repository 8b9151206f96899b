"""Tensor construction, dtypes, printing, the book's op names, and clear shape errors."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import ShapeError, Tensor


def test_constructor_book_signature_and_attributes() -> None:
    t = Tensor([1, 2, 3], autograd=True, creators=None, creation_op=None, id=7)
    assert t.id == 7 and t.autograd and t.grad is None and t.tag is None
    assert t.creators is None and t.creation_op is None
    assert t.shape == (3,) and t.ndim == 1 and t.size == 3 and t.device == "cpu"
    assert Tensor([1.0]).id != Tensor([1.0]).id


def test_ids_do_not_consume_the_global_rng() -> None:
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    Tensor([1.0], autograd=True) * 2
    assert np.random.rand() == expected


def test_dtypes() -> None:
    assert Tensor(np.random.rand(2)).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    engine.set_default_dtype(np.float64)
    assert Tensor([1.0]).dtype == np.float64


def test_mixed_dtypes_never_silently_float64() -> None:
    x = Tensor([1.0, 2.0])
    i = Tensor([1, 2])
    assert (x + i).dtype == np.float32
    assert (i * x).dtype == np.float32
    assert (x * 2.5).dtype == np.float32
    assert (2 - x).dtype == np.float32
    assert (x * np.ones(2)).dtype == np.float32
    assert (i * 2).dtype == np.int64
    assert (i * 0.5).dtype == np.float32
    assert Tensor([[1, 0]]).mm(Tensor(np.ones((2, 1)))).dtype == np.float32


def test_constructor_copies_and_refuses_objects() -> None:
    a = np.ones(2, dtype=np.float32)
    t = Tensor(a)
    a[0] = 5
    assert t.data[0] == 1
    with pytest.raises(TypeError, match="numeric"):
        Tensor(["a", object()])


def test_printing_is_the_arrays() -> None:
    t = Tensor(np.array([1, 2, 3]))
    assert repr(t) == "array([1, 2, 3])" and str(t) == "[1 2 3]"
    assert repr([t, t]) == "[array([1, 2, 3]), array([1, 2, 3])]"


def test_book_creation_ops() -> None:
    a = Tensor(np.ones((2, 3)), autograd=True)
    w = Tensor(np.ones((3, 2)), autograd=True)
    i = Tensor(np.array([0, 1]))
    results = {
        "add": a + a,
        "sub": a - a,
        "mul": a * a,
        "neg": -a,
        "mm": a.mm(w),
        "transpose": a.transpose(),
        "sum_0": a.sum(0),
        "expand_0": a.expand(0, 4),
        "sigmoid": a.sigmoid(),
        "tanh": a.tanh(),
        "index_select": w.index_select(i),
        "cross_entropy": a.cross_entropy(i),
    }
    for name, t in results.items():
        assert t.creation_op == name
        assert t.creators[0] is a or t.creators[0] is w


def test_book_expand_and_sum() -> None:
    x = Tensor(np.array([[1, 2, 3], [4, 5, 6]]))
    assert x.sum(0).data.tolist() == [5, 7, 9]
    assert x.sum(1).data.tolist() == [6, 15]
    assert x.expand(dim=2, copies=4).shape == (2, 3, 4)
    assert x.expand(0, 2).data[1].tolist() == [[1, 2, 3], [4, 5, 6]]


def test_book_index_select_shape() -> None:
    w = Tensor(np.arange(15.0).reshape(5, 3))
    idx = Tensor(np.array([[1, 2, 3], [2, 3, 4]]))
    assert w.index_select(idx).shape == (2, 3, 3)


def test_ndarray_on_the_left_gives_a_tensor() -> None:
    x = Tensor([1.0, 2.0], autograd=True)
    for y in (np.ones(2) + x, np.ones(2) - x, np.ones(2) * x, np.ones(2) / x):
        assert isinstance(y, Tensor) and y.autograd
    assert isinstance(np.ones((1, 2)) @ Tensor(np.ones((2, 1))), Tensor)


def test_softmax_is_stable_and_a_tensor() -> None:
    s = Tensor([[1000.0, 0.0, -1000.0]]).softmax()
    assert isinstance(s, Tensor)
    assert np.isfinite(s.data).all() and abs(s.data.sum() - 1) < 1e-6
    ls = Tensor([[1000.0, 0.0]]).log_softmax()
    np.testing.assert_allclose(ls.data, [[0.0, -1000.0]])


def test_cross_entropy_value_and_true_gradient() -> None:
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    target = np.array([0, 1])
    x = Tensor(logits, autograd=True, dtype=np.float64)
    loss = x.cross_entropy(Tensor(target))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = -np.log(p[[0, 1], target]).mean()
    assert loss.shape == () and abs(loss.item() - expected) < 1e-12
    loss.backward()
    np.testing.assert_allclose(x.grad.data, (p - np.eye(3)[target]) / 2)
    big = Tensor([[1e4, 0.0]], autograd=True).cross_entropy(Tensor([1]))
    assert np.isfinite(big.item())


def test_item_numpy_detach() -> None:
    x = Tensor([[1.5]], autograd=True)
    assert x.item() == 1.5
    n = x.numpy()
    n[0, 0] = 9
    assert x.data[0, 0] == 1.5
    d = (x * 2).detach()
    assert not d.autograd and d.creators is None


@pytest.mark.parametrize(
    ("fn", "op", "shapes"),
    [
        (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((4,))), "add", ["(2, 3)", "(4,)"]),
        (lambda: Tensor(np.ones((2, 3))) * Tensor(np.ones((3, 2))), "mul", ["(2, 3)", "(3, 2)"]),
        (lambda: Tensor(np.ones((2, 3))).mm(Tensor(np.ones((2, 3)))), "mm", ["(2, 3)", "(2, 3)"]),
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4,))), "matmul", ["(2, 3)", "(4,)"]),
        (lambda: Tensor(np.ones((2, 3))).reshape(4), "reshape", ["(2, 3)"]),
        (
            lambda: engine.concat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 2)))]),
            "concat",
            ["(2, 3)", "(2, 2)"],
        ),
        (
            lambda: Tensor(np.ones((2, 3))).cross_entropy(Tensor([0, 1, 1])),
            "cross_entropy",
            ["(2, 3)", "(3,)"],
        ),
        (lambda: Tensor(np.ones((2, 3))).sum(2), "sum_2", ["2"]),
        (lambda: Tensor(np.ones((2, 3)))[5], "getitem", ["(2, 3)"]),
        (lambda: Tensor(np.ones((5, 2))).index_select(Tensor([7])), "index_select", ["(5, 2)"]),
    ],
)
def test_shape_errors_name_op_and_shapes(fn, op: str, shapes: list[str]) -> None:
    with pytest.raises(ShapeError) as info:
        fn()
    message = str(info.value)
    assert message.startswith(op)
    for s in shapes:
        assert s in message


def test_cross_entropy_rejects_bad_targets() -> None:
    with pytest.raises(ShapeError, match=r"\[0, 3\)"):
        Tensor(np.ones((2, 3))).cross_entropy(Tensor([0, 3]))
    with pytest.raises(ShapeError, match="integers"):
        Tensor(np.ones((2, 3))).cross_entropy(Tensor([0.5, 1.0]))


def test_pow_needs_a_number() -> None:
    with pytest.raises(TypeError, match="exponent"):
        Tensor([1.0]) ** Tensor([1.0, 2.0])
    assert (Tensor([2.0]) ** Tensor([3.0])).item() == 8.0


def test_dropout_modes() -> None:
    x = Tensor(np.ones((100, 100)), autograd=True)
    assert x.dropout(0.5, training=False) is x
    y = x.dropout(0.5)
    kept = y.data != 0
    assert 0.4 < kept.mean() < 0.6 and np.allclose(y.data[kept], 2.0)
    with pytest.raises(engine.EngineError, match="p must be"):
        x.dropout(1.0)


def test_flatten_and_getitem_bool_mask() -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), autograd=True)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    y = x[x.data > 20]
    assert y.data.tolist() == [21.0, 22.0, 23.0]
    y.sum().backward()
    assert x.grad.data.sum() == 3.0


def test_python_protocols() -> None:
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], autograd=True)
    rows = list(t)
    assert len(rows) == 2 and rows[1].data.tolist() == [3.0, 4.0] and rows[1].autograd
    assert np.asarray(t).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert float(Tensor(3.5)) == 3.5 and bool(Tensor(1.0)) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)


def test_float_ops_on_integer_tensors_use_the_default_float() -> None:
    i, j = Tensor([1, 2]), Tensor([2, 2])
    for result in (i / j, i / 2, 2 / i, i.exp(), i.log(), i.sqrt(), i.mean(), i.sigmoid()):
        assert result.dtype == np.float32
    assert i.tanh().dtype == np.float32 and (i**0.5).dtype == np.float32
    assert Tensor([[1, 2]]).cross_entropy(Tensor([0])).dtype == np.float32
    assert (i**2).dtype == np.int64 and i.sum().dtype == np.int64 and i.max().dtype == np.int64
    engine.set_default_dtype(np.float64)
    assert (i / j).dtype == np.float64


def test_grad_can_be_assigned_an_array_or_none() -> None:
    w = Tensor([1.0, 2.0], autograd=True)
    w.grad = np.zeros(2, dtype=np.float32)
    assert isinstance(w.grad, Tensor) and not w.grad.autograd
    (w * 3).sum().backward()
    assert w.grad.data.tolist() == [3.0, 3.0]
    w.grad = None
    (w * 1).sum().backward()
    assert w.grad.data.tolist() == [1.0, 1.0]
