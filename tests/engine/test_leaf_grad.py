"""A leaf's gradient: ownership of fresh arrays (never of shared ones) and the deferred zeroing
of ``zero()``, as seen by a reader of ``p.grad`` (engine/leaf_grad.py)."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pytest

from engine import SGD, Function, Linear, Tensor
from engine import autograd as ag


class Emit(Function):
    """A test op: its backward returns ``make()`` for each input, remembering what it made."""

    op_name = "emit"

    def forward(self, *arrays: Any) -> Any:
        return arrays[0] * 1

    def backward(self, grad: Any) -> tuple[Any, ...]:
        out = self.make()
        self.made = weakref.ref(out)
        return tuple(out for _ in self.needs)


def emit(make: Any, *inputs: Tensor) -> Tensor:
    return Emit.apply(*inputs, make=make)


N = 100  # above the size under which gradients are added out of place
ONES = np.ones(N, dtype=np.float32)
RAMP = np.arange(N, dtype=np.float32) + 1


def leaf() -> Tensor:
    return Tensor(RAMP, autograd=True)


def fresh() -> np.ndarray:
    return RAMP + 0


def test_calibration_found_the_private_count() -> None:
    assert ag._calibrated
    assert ag._private_refs > 0  # CPython with its GIL: ownership is on


def test_fresh_gradient_is_kept_not_copied() -> None:
    w = leaf()
    fn_holder: list[Any] = []

    def make() -> np.ndarray:
        out = fresh()
        fn_holder.append(weakref.ref(out))
        return out

    emit(make, w).backward()
    assert w.grad.data is fn_holder[0]()


def test_whole_view_of_a_private_base_is_kept() -> None:
    w = Tensor(np.zeros((10, 10), dtype=np.float32), autograd=True)
    made: list[Any] = []

    def make() -> np.ndarray:
        out = np.arange(N, dtype=np.float32).reshape(10, 10)  # a view of a fresh base
        made.append(weakref.ref(out))
        return out

    emit(make, w).backward()
    assert w.grad.data is made[0]()


def test_one_array_for_two_leaves_is_copied_for_each() -> None:
    a, b = leaf(), leaf()
    y = emit(fresh, a, b)
    y.backward(retain_graph=True)
    assert a.grad.data is not b.grad.data
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 1000
    np.testing.assert_array_equal(b.grad.data, RAMP)
    y.backward()
    np.testing.assert_array_equal(a.grad.data, 1000 + 2 * RAMP)
    np.testing.assert_array_equal(b.grad.data, 2 * RAMP)


def test_pass_through_gradient_of_an_add_is_not_taken() -> None:
    a, b = leaf(), leaf()
    y = a + b  # Add's backward returns the incoming gradient for both
    seed = ONES.copy()
    y.backward(seed)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 5
    np.testing.assert_array_equal(b.grad.data, 1)
    np.testing.assert_array_equal(seed, 1)


def test_array_the_op_keeps_is_not_taken() -> None:
    saved = np.full(N, 2.0, dtype=np.float32)
    w = leaf()
    y = emit(lambda: saved, w)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, 4)
    np.testing.assert_array_equal(saved, 2)  # never modified in place


def test_view_of_a_shared_array_is_not_taken() -> None:
    buf = np.arange(2 * N, dtype=np.float32)
    w = Tensor(np.zeros((10, 10), dtype=np.float32), autograd=True)
    w2 = Tensor(np.zeros(N, dtype=np.float32), autograd=True)
    for _ in range(2):
        emit(lambda: buf.reshape(10, 20)[:, :10], w).backward()  # a strided view
        emit(lambda: buf[:N], w2).backward()  # a contiguous part of a bigger array
    np.testing.assert_array_equal(buf, np.arange(2 * N))
    np.testing.assert_array_equal(w2.grad.data, 2 * np.arange(N))


def test_whole_view_whose_base_is_also_held_is_not_taken() -> None:
    base = ONES.copy()
    w = Tensor(np.zeros((10, 10), dtype=np.float32), autograd=True)
    y = emit(lambda: base.reshape(10, 10), w)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(base, 1)
    np.testing.assert_array_equal(w.grad.data, 2)


def test_other_dtype_is_converted_not_taken() -> None:
    w = leaf()
    emit(lambda: np.ones(N), w).backward()  # float64 gradient, float32 parameter
    assert w.grad.dtype == np.float32


def test_leaf_used_twice_and_retain_graph_accumulate() -> None:
    w = Tensor(np.ones((30, 20), dtype=np.float32), autograd=True)
    x1 = Tensor(np.arange(60, dtype=np.float32).reshape(2, 30))
    x2 = Tensor(np.ones((2, 30), dtype=np.float32))
    y = (x1.mm(w) + x2.mm(w)).sum()
    y.backward(retain_graph=True)
    expected = (x1.data + x2.data).T @ np.ones((2, 20), dtype=np.float32)
    np.testing.assert_allclose(w.grad.data, expected)
    y.backward()
    np.testing.assert_allclose(w.grad.data, 2 * expected)


def test_user_gradient_tensor_is_added_to_in_place_and_zeroed_at_once() -> None:
    w = leaf()
    mine = Tensor(np.full(N, 10.0, dtype=np.float32))
    w.grad = mine
    emit(fresh, w).backward()
    assert w.grad is mine
    np.testing.assert_array_equal(mine.data, 10 + RAMP)
    SGD([w], alpha=0.0).zero()
    np.testing.assert_array_equal(mine.data, 0)


def test_user_root_gradient_is_never_modified() -> None:
    w = leaf()
    seed = np.full(N, 3.0, dtype=np.float32)
    w.backward(seed)
    w.backward(seed)
    np.testing.assert_array_equal(seed, 3)
    np.testing.assert_array_equal(w.grad.data, 6)


def test_step_leaves_zeros_for_every_reader() -> None:
    w = leaf()
    opt = SGD([w], alpha=0.1)
    (w * w).sum().backward()
    kept = w.grad
    opt.step()
    np.testing.assert_allclose(w.data, 0.8 * RAMP, rtol=1e-6)
    np.testing.assert_array_equal(kept.data, 0)  # a gradient tensor kept from before
    assert repr(w.grad) == repr(np.zeros(N, dtype=np.float32))
    (w * w).sum().backward()
    assert w.grad is kept  # the same tensor, holding the new gradient (not added to zeros)
    np.testing.assert_allclose(kept.data, 2 * w.data)


@pytest.mark.parametrize("read_between", [False, True])
def test_backward_after_zero_gives_the_new_gradient(read_between: bool) -> None:
    layer = Linear(30, 20)
    opt = SGD(layer.get_parameters(), alpha=0.0)
    x = Tensor(np.ones((4, 30), dtype=np.float32))
    for _ in range(3):
        layer.forward(x).sum().backward()
        opt.step()
        if read_between:
            np.testing.assert_array_equal(layer.weight.grad.data, 0)
    layer.forward(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, np.full((30, 20), 4.0))
    np.testing.assert_allclose(layer.bias.grad.data, np.full(20, 4.0))


def test_stale_gradient_overwritten_by_a_shared_array_keeps_it_private() -> None:
    a, b = leaf(), leaf()
    opt = SGD([a, b], alpha=0.0)
    (a + b).sum().backward()
    opt.step()
    y = a + b
    y.backward(np.full(N, 7.0, dtype=np.float32))  # both get the one incoming array
    a.grad.data[0] = -1
    np.testing.assert_array_equal(b.grad.data, 7)
    np.testing.assert_array_equal(a.grad.data[:2], [-1, 7])


def test_step_without_zero_accumulates() -> None:
    w = leaf()
    opt = SGD([w], alpha=0.0)
    for _ in range(2):
        emit(fresh, w).backward()
        opt.step(zero=False)
    np.testing.assert_array_equal(w.grad.data, 2 * RAMP)


def test_zero_grad_of_a_tensor_and_of_a_stale_gradient() -> None:
    w = leaf()
    emit(fresh, w).backward()
    w.zero_grad()
    np.testing.assert_array_equal(w.grad.data, 0)
    emit(fresh, w).backward()
    SGD([w]).zero()
    w.zero_grad()
    np.testing.assert_array_equal(w.grad.data, 0)
