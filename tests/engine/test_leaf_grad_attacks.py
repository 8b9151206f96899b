"""Attacks on a leaf's kept gradient array and the deferred zeroing (engine/leaf_grad.py).

Every case checks what a reader can see: the gradient values after one backward, two
(``retain_graph``), another graph without zeroing, and a step; that modifying one gradient in
place changes no other gradient, no tensor's data, no op's saved array and no user array; and
that an op's returned arrays are never modified later. References are the same computation with
ownership switched off (every gradient copied, the engine before the change) on fresh leaves,
and PyTorch where the maths is plain.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from engine import (
    GRU,
    LSTM,
    SGD,
    Adam,
    AdamW,
    Conv1d,
    Conv2d,
    Embedding,
    Function,
    LayerNorm,
    Linear,
    LSTMCell,
    MaxPool2d,
    MultiHeadAttention,
    RNNCell,
    Tensor,
    TransformerEncoderLayer,
    clip_grad_norm,
    concat,
    leaf_grad,
    stack,
)
from engine import autograd as ag

F64 = np.float64


@contextmanager
def ownership_off() -> Iterator[None]:
    """Every gradient copied, as before leaf ownership (the reference behaviour)."""
    saved = ag._private_refs, leaf_grad.BASE_PRIVATE[0]
    ag._private_refs, leaf_grad.BASE_PRIVATE[0] = 0, 0
    try:
        yield
    finally:
        ag._private_refs, leaf_grad.BASE_PRIVATE[0] = saved


def t64(a: Any, grad: bool = True) -> Tensor:
    return Tensor(np.asarray(a, dtype=F64), autograd=grad, dtype=F64)


# -- every op, with a leaf used twice or with its view -------------------------------------------
Case = Callable[[np.random.Generator], tuple[list[Tensor], Callable[[], Tensor]]]


def _elementwise(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w, v = t64(rng.normal(size=(10, 10))), t64(rng.normal(size=(10, 10)))
    return [w, v], lambda: (w * w + w - v * w + (w + w) / (v * v + 2.0) - (-w)).sum()


def _views(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w = t64(rng.normal(size=(10, 10)))
    return [w], lambda: (
        w + w.reshape(100).reshape(10, 10) + w.transpose() * w.T + w[2:, :].sum(0)
    ).sum()


def _matmul(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w, b = t64(rng.normal(size=(10, 10))), t64(rng.normal(size=(10,)))
    return [w, b], lambda: ((w.mm(w) + b).matmul(w.T) + w @ b).tanh().sum()


def _index(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w = t64(rng.normal(size=(12, 9)))
    idx = np.array([0, 3, 3, 11, 0])
    return [w], lambda: (w[idx] * w[idx]).sum() + w.index_select(idx).sum() + w[1:4].mean()


def _expand_reduce(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w, b = t64(rng.normal(size=(70,))), t64(rng.normal(size=(1, 70)))
    return (
        [w, b],
        lambda: (
            (w.expand(0, 3) * w + b).sum(0).sum()
            + (w * b).mean()
            + w.max()
            + (w * w).var()
            + w.sum()
        ),
    )


def _concat_stack(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w, v = t64(rng.normal(size=(8, 10))), t64(rng.normal(size=(8, 10)))
    return [
        w,
        v,
    ], lambda: (concat([w, w, v], dim=0) ** 2).sum() + (stack([w, v, w]) * stack([v, w, w])).sum()


def _activations(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w = t64(rng.normal(size=(9, 11)))
    return [w], lambda: (
        w.sigmoid()
        + w.relu() * w
        + w.exp() * 0.1
        + w.softmax(-1)
        + w.gelu()
        + w.silu()
        + w.log_softmax(-1)
        + w.abs()
        + w.leaky_relu()
        + w.clip(-0.5, 0.5)
    ).sum()


def _cross_entropy(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    w, x = t64(rng.normal(size=(10, 10))), t64(rng.normal(size=(10, 10)))
    target = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
    return [w, x], lambda: x.mm(w).cross_entropy(target) + w.cross_entropy(target)


def _zero_d(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    s, w = t64(1.5), t64(rng.normal(size=(70,)))
    return [s, w], lambda: (w * s * s + s).sum() + s * s


def _layers(make: Callable[[], Any], x_shape: tuple[int, ...], twice: bool = True) -> Case:
    def case(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
        engine.set_default_dtype(F64)
        np.random.seed(int(rng.integers(1000)))
        layer = make()
        x = t64(rng.normal(size=x_shape))

        def loss() -> Tensor:
            y = layer(x)
            y = y[0] if isinstance(y, tuple) else y
            z = layer(y.reshape(x_shape) if twice else x)
            z = z[0] if isinstance(z, tuple) else z
            return (y * y).sum() + (z * x.sum()).sum()

        return [x, *layer.get_parameters()], loss

    return case


def _embedding_tied(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    engine.set_default_dtype(F64)
    np.random.seed(1)
    emb = Embedding(12, 12)
    idx = np.array([[1, 1, 4], [4, 0, 1]])
    target = np.array([1, 4, 0, 0, 11, 1])
    w = emb.weight
    return [w], lambda: emb(idx).reshape(6, 12).mm(w.T).cross_entropy(target) + emb(idx).sum()


def _book_cells(rng: np.random.Generator) -> tuple[list[Tensor], Callable[[], Tensor]]:
    engine.set_default_dtype(F64)
    np.random.seed(2)
    lstm, rnn = LSTMCell(6, 6, 6), RNNCell(6, 6, 6)
    xs = [t64(rng.normal(size=(3, 6))) for _ in range(3)]

    def loss() -> Tensor:
        hidden = lstm.init_hidden(3)
        h = rnn.init_hidden(3)
        total = None
        for x in [*xs, xs[0]]:
            out, hidden = lstm(x, hidden)
            out2, h = rnn(out, h)
            step = (out2 * out2).sum()
            total = step if total is None else total + step
        assert total is not None
        return total

    return [*xs, *lstm.get_parameters(), *rnn.get_parameters()], loss


CASES: dict[str, Case] = {
    "elementwise": _elementwise,
    "views": _views,
    "matmul": _matmul,
    "index": _index,
    "expand_reduce": _expand_reduce,
    "concat_stack": _concat_stack,
    "activations": _activations,
    "cross_entropy": _cross_entropy,
    "zero_d": _zero_d,
    "embedding_tied": _embedding_tied,
    "book_cells": _book_cells,
    "linear": _layers(lambda: Linear(10, 10), (7, 10)),
    "lstm": _layers(lambda: LSTM(5, 5), (2, 4, 5)),
    "gru": _layers(lambda: GRU(5, 5), (2, 4, 5)),
    "layer_norm": _layers(lambda: LayerNorm(9), (4, 9)),
    "attention": _layers(lambda: MultiHeadAttention(8, 2), (2, 5, 8)),
    "transformer": _layers(lambda: TransformerEncoderLayer(8, 2, 16), (2, 5, 8)),
    "conv2d": _layers(lambda: Conv2d(2, 2, 3, padding=1), (2, 2, 5, 5)),
    "conv1d": _layers(lambda: Conv1d(2, 2, 3, padding=1), (2, 2, 9)),
    "maxpool": _layers(lambda: MaxPool2d(2), (2, 2, 6, 6), twice=False),
}


def _grads(leaves: list[Tensor]) -> list[np.ndarray]:
    out = []
    for p in leaves:
        g = p.grad
        out.append(np.zeros(p.shape) if g is None else np.array(g.data, copy=True))
    return out


def _reference(case: Case) -> list[np.ndarray]:
    with ownership_off():
        leaves, loss = case(np.random.default_rng(0))
        loss().backward()
        return _grads(leaves)


def _check_isolated(leaves: list[Tensor]) -> None:
    """Adding into one leaf's gradient array in place changes nothing else."""
    datas = [p.data.copy() for p in leaves]
    grads = _grads(leaves)
    for i, p in enumerate(leaves):
        p.grad.data += 1000.0
        for j, q in enumerate(leaves):
            np.testing.assert_array_equal(q.data, datas[j])
            if j != i and q is not p:
                np.testing.assert_array_equal(q.grad.data, grads[j], err_msg=f"leaf {j} via {i}")
        p.grad.data[...] = grads[i]
    for i, p in enumerate(leaves):
        for j in range(i + 1, len(leaves)):
            if leaves[j] is not p:
                assert not np.shares_memory(p.grad.data, leaves[j].grad.data), (i, j)
        for q in leaves:
            assert not np.shares_memory(p.grad.data, q.data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_accumulates_like_copying_gradients(name: str) -> None:
    case = CASES[name]
    ref = _reference(case)
    leaves, loss = case(np.random.default_rng(0))
    opt = SGD(leaves, alpha=0.0)
    root = loss()
    root.backward(retain_graph=True)
    for g, r in zip(_grads(leaves), ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    _check_isolated(leaves)
    root.backward()  # the same graph again: twice the gradient
    for g, r in zip(_grads(leaves), ref, strict=True):
        np.testing.assert_allclose(g, 2 * r, rtol=1e-12, atol=1e-12)
    loss().backward()  # a new graph, no zeroing: three times
    for g, r in zip(_grads(leaves), ref, strict=True):
        np.testing.assert_allclose(g, 3 * r, rtol=1e-12, atol=1e-12)
    _check_isolated(leaves)
    held = [p.grad for p in leaves]
    opt.step()  # alpha 0: only the zeroing
    for p, h in zip(leaves, held, strict=True):
        assert p.grad is h
        np.testing.assert_array_equal(h.data, 0)
    for _ in range(2):  # once after the deferred zeroing, once adding in place
        loss().backward()
    for p, h, r in zip(leaves, held, ref, strict=True):
        np.testing.assert_allclose(h.data, 2 * r, rtol=1e-12, atol=1e-12)
        assert p.grad is h
    _check_isolated(leaves)
    opt.zero()
    loss().backward()
    for g, r in zip(_grads(leaves), ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    _check_isolated(leaves)


# -- a custom op whose backward returns arrays with every kind of sharing ------------------------
SHAPE = (10, 10)


class Recipe(Function):
    """``forward`` = ``a * 1``; ``backward`` runs ``self.recipe(self, grad)`` and snapshots
    what it returned, what it saved and the gradient it received."""

    op_name = "recipe"
    recipe: Callable[[Any, Any], Any]

    def forward(self, *arrays: Any) -> Any:
        self.out = arrays[0] * 1
        return self.out

    def backward(self, grad: Any) -> Any:
        res = self.recipe(self, grad)
        generator = hasattr(res, "__next__")
        items = list(res)
        self.returned = [None if g is None else np.array(g, copy=True) for g in items]
        self.grad_seen = np.array(grad, copy=True)
        self.saved_copies = {
            k: np.array(v, copy=True) for k, v in vars(self).items() if isinstance(v, np.ndarray)
        }
        return (g for g in items) if generator else res


def _fresh(grad: Any, k: float = 2.0) -> Any:
    return grad * k


def _r_list_saved(fn: Any, grad: Any) -> Any:
    if not hasattr(fn, "bufs"):  # per-input buffers made once, reused by every backward
        fn.bufs = [np.empty_like(grad), np.empty_like(grad)]
    np.multiply(grad, 2.0, out=fn.bufs[0])
    np.multiply(grad, 3.0, out=fn.bufs[1])
    return fn.bufs


def _r_tuple_saved(fn: Any, grad: Any) -> Any:
    fn.last = (grad * 2.0, grad * 3.0)  # kept to inspect the last gradients
    return fn.last


RECIPES: dict[str, Callable[[Any, Any], Any]] = {
    "fresh": lambda fn, g: (_fresh(g), _fresh(g, 3.0)),
    "incoming": lambda fn, g: (g, g * 2),
    "incoming_both": lambda fn, g: (g, g),
    "reshape_of_incoming": lambda fn, g: (g.reshape(100).reshape(SHAPE), g.T),
    "slices_of_incoming": lambda fn, g: (g[:], g[...]),
    "broadcast": lambda fn, g: (np.broadcast_to(g[0], SHAPE), g.sum(0, keepdims=True) + g * 0),
    "same_fresh_twice": lambda fn, g: (lambda o: (o, o))(_fresh(g)),
    "fresh_and_its_view": lambda fn, g: (lambda o: (o, o.reshape(SHAPE)))(_fresh(g)),
    "two_whole_views": lambda fn, g: (lambda o: (o.reshape(SHAPE), o.reshape(100).reshape(SHAPE)))(
        _fresh(g).reshape(100)
    ),
    "whole_view_of_fresh": lambda fn, g: (_fresh(g).reshape(100).reshape(SHAPE), _fresh(g).T),
    "saved_on_op": lambda fn, g: (setattr(fn, "kept", _fresh(g)), (fn.kept, _fresh(g)))[1],
    "view_of_saved": lambda fn, g: (
        setattr(fn, "kept", _fresh(g).reshape(100)),
        (fn.kept.reshape(SHAPE), fn.kept[:].reshape(SHAPE)),
    )[1],
    "base_of_a_saved_view": lambda fn, g: (
        lambda o: (setattr(fn, "kept", o.reshape(100)), (o, _fresh(g)))[1]
    )(_fresh(g)),
    "forward_output": lambda fn, g: (fn.out, _fresh(g)),
    "other_leaf_grad": lambda fn, g: (fn.other.grad.data, fn.other.grad.data.reshape(SHAPE)),
    "generator": lambda fn, g: (x for x in (_fresh(g), _fresh(g, 3.0))),
    "list": lambda fn, g: [_fresh(g), _fresh(g, 3.0)],
    "list_saved_on_op": _r_list_saved,
    "tuple_saved_on_op": _r_tuple_saved,
}


def _run_recipe(name: str, upstream: np.ndarray) -> None:
    a, b = t64(np.zeros(SHAPE)), t64(np.zeros(SHAPE))
    other = t64(np.zeros(SHAPE))
    (other * np.arange(100.0).reshape(SHAPE)).sum().backward()
    other_grad = other.grad.data.copy()
    user = upstream.copy()
    y = Recipe.apply(a, b, recipe=RECIPES[name], other=other)
    fn = y._fn
    total = [np.zeros(SHAPE), np.zeros(SHAPE)]
    for k in range(3):
        if k == 2:  # a step between: the next backward overwrites the zeros
            SGD([a, b], alpha=0.0).step()
            total = [np.zeros(SHAPE), np.zeros(SHAPE)]
        y.backward(user, retain_graph=True)
        for i in range(2):
            total[i] = total[i] + fn.returned[i]
        np.testing.assert_array_equal(a.grad.data, total[0], err_msg=f"{name}: a after {k}")
        np.testing.assert_array_equal(b.grad.data, total[1], err_msg=f"{name}: b after {k}")
        a.grad.data += 7.0  # in place: nothing else may change
        total[0] = total[0] + 7.0
        np.testing.assert_array_equal(b.grad.data, total[1], err_msg=f"{name}: b after a's +=")
        for key, copy in fn.saved_copies.items():  # the op's saved arrays stay as returned
            np.testing.assert_array_equal(getattr(fn, key), copy, err_msg=f"{name}: {key}")
        for buf, copy in zip(getattr(fn, "bufs", []), fn.returned, strict=False):
            np.testing.assert_array_equal(buf, copy, err_msg=f"{name}: bufs")
        for arr, copy in zip(getattr(fn, "last", ()), fn.returned, strict=False):
            np.testing.assert_array_equal(arr, copy, err_msg=f"{name}: last")
        np.testing.assert_array_equal(y.grad.data, upstream, err_msg=f"{name}: y.grad")
        np.testing.assert_array_equal(fn.grad_seen, upstream)
        np.testing.assert_array_equal(user, upstream, err_msg=f"{name}: the user's gradient")
        np.testing.assert_array_equal(other.grad.data, other_grad, err_msg=f"{name}: other")
        np.testing.assert_array_equal(a.data, 0)
        np.testing.assert_array_equal(b.data, 0)
        np.testing.assert_array_equal(fn.out, 0)
        assert not np.shares_memory(a.grad.data, b.grad.data)


@pytest.mark.parametrize(
    "name", sorted(n for n in RECIPES if n not in ("list_saved_on_op", "tuple_saved_on_op"))
)
def test_custom_backward_sharing_never_leaks(name: str) -> None:
    upstream = np.arange(100.0).reshape(SHAPE) + 1
    _run_recipe(name, upstream)


def test_bug_gradient_list_the_op_keeps_is_taken_by_the_leaf() -> None:
    """BUG (d9a3120): a backward returning a list it keeps (buffers reused by each backward)
    passes the reference-count test (the list is the one holder the tuple would be); the
    leaf takes the op's buffer, sums into it, and the op's next backward overwrites it.
    Old engine: a.grad = 2 + 20 = 22; now 40, and the op's buffer holds the leaf's sum."""
    _run_recipe("list_saved_on_op", np.arange(100.0).reshape(SHAPE) + 1)


def test_bug_gradient_tuple_the_op_keeps_is_modified_by_accumulation() -> None:
    """BUG (d9a3120): as above with a tuple kept on the op (``self.last = (ga, gb)``): the
    op's kept arrays are modified by the next accumulation (docs/engine.md promises an array
    held by an op's saved values is never modified)."""
    _run_recipe("tuple_saved_on_op", np.arange(100.0).reshape(SHAPE) + 1)


def test_bug_stale_integer_gradient_is_not_truncated() -> None:
    """BUG (d9a3120): ``_overwrite`` writes a float gradient into a stale integer gradient
    array with ``old[...] = g`` (truncating); adding to zeros, as before, gave floats."""
    x = Tensor(np.arange(3), autograd=True)
    x.backward(np.array([1, 2, 3]))  # an integer leaf with an integer gradient
    SGD([x], alpha=0.0).zero()
    (x * 1.5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.5, 1.5, 1.5])


# -- the user's arrays, the book's training loop, optimizers -------------------------------------
@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("op", ["leaf", "identity_view", "add", "mul", "reshape"])
def test_user_gradient_is_never_modified(op: str, as_tensor: bool) -> None:
    w = t64(np.ones(SHAPE))
    user = np.full(SHAPE, 3.0)
    ops: dict[str, Callable[[], Tensor]] = {
        "leaf": lambda: w,
        "identity_view": lambda: w.T.T,
        "add": lambda: w + w,
        "mul": lambda: w * 1.0,
        "reshape": lambda: w.reshape(100).reshape(SHAPE),
    }
    seed = Tensor(user, dtype=F64) if as_tensor else user
    for _ in range(2):
        ops[op]().backward(seed)
        w.grad.data *= 5.0
        w.grad.data += 1.0
        np.testing.assert_array_equal(user, 3.0)
        if as_tensor:
            np.testing.assert_array_equal(seed.data, 3.0)  # type: ignore[union-attr]
        SGD([w], alpha=0.0).step()


def test_book_loop_reads_zeros_after_step_and_hand_zeroing() -> None:
    engine.set_default_dtype(F64)
    np.random.seed(0)
    model = Linear(10, 10)
    x = t64(np.random.rand(8, 10), grad=False)
    opt = SGD(model.get_parameters(), alpha=0.1)
    held = model.weight.grad
    for step in range(3):
        out = model(x)
        ((out - x) * (out - x)).sum().backward()
        w_grad = model.weight.grad
        assert w_grad is not None
        if held is not None:
            assert w_grad is held
        expect = w_grad.data.copy()
        np.testing.assert_allclose(expect, x.data.T @ (2 * (out.data - x.data)), rtol=1e-12)
        held = w_grad
        if step == 1:
            model.weight.grad.data *= 0  # the book's own zeroing, by hand
            model.bias.grad.data *= 0
            np.testing.assert_array_equal(held.data, 0)
            continue
        opt.step()
        assert str(held) == str(np.zeros((10, 10)))
        np.testing.assert_array_equal(np.asarray(held), 0)
        np.testing.assert_array_equal(model.bias.grad.numpy(), 0)
    model.weight.grad = None
    (model(x) * 1.0).sum().backward()
    np.testing.assert_allclose(model.weight.grad.data, x.data.sum(0)[:, None] * np.ones(10))


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam", "adamw"])
def test_optimizers_without_zero_see_the_summed_gradient(kind: str) -> None:
    def make(params: list[Tensor]) -> Any:
        return {
            "sgd": lambda: SGD(params, alpha=0.1),
            "momentum": lambda: SGD(params, alpha=0.1, momentum=0.9, weight_decay=0.01),
            "adam": lambda: Adam(params, alpha=0.01),
            "adamw": lambda: AdamW(params, alpha=0.01),
        }[kind]()

    rng = np.random.default_rng(3)
    w0, x1, x2 = rng.normal(size=(10, 10)), rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    w, ref = t64(w0), t64(w0)
    opt, ref_opt = make([w]), make([ref])
    for _ in range(3):
        (w.mm(t64(x1, False)).tanh()).sum().backward()
        (w.mm(t64(x2, False)) * w).sum().backward()
        g1 = 1 - np.tanh(w.data @ x1) ** 2
        total = g1 @ x1.T + w.data @ x2 + w.data @ x2.T
        np.testing.assert_allclose(w.grad.data, total, rtol=1e-10)
        ref.grad = Tensor(total, dtype=F64)
        opt.step(zero=False)
        ref_opt.step(zero=False)
        np.testing.assert_allclose(w.data, ref.data, rtol=1e-10)
        np.testing.assert_allclose(w.grad.data, total, rtol=1e-10)  # not zeroed
        opt.zero()
        ref_opt.zero()
        np.testing.assert_array_equal(w.grad.data, 0)


def test_clip_grad_norm_after_deferred_zero() -> None:
    w = t64(np.ones(100))
    (w * 3.0).sum().backward()
    opt = SGD([w], alpha=0.0)
    opt.step()
    assert clip_grad_norm([w], 1.0) == 0.0
    (w * 3.0).sum().backward()
    assert clip_grad_norm([w], 1.0) == pytest.approx(30.0)
    np.testing.assert_allclose(w.grad.data, 0.1, rtol=1e-6)
    opt.zero()
    (w * 4.0).sum().backward()
    np.testing.assert_allclose(w.grad.data, 4.0)


@pytest.mark.parametrize("n", [1, 100])
def test_float32_parameter_keeps_float32_gradient(n: int) -> None:
    w = Tensor(np.ones(n, dtype=np.float32), autograd=True)
    b = Tensor(np.zeros((1, n), dtype=np.float32), autograd=True)
    for _ in range(2):
        y = Tensor(np.ones((5, n), dtype=np.float32)) * w + b  # both reduced by unbroadcast
        y.backward(np.full((5, n), 0.1, dtype=np.float64))
        y2 = w * 1.0
        y2.backward(np.full(n, 0.2, dtype=np.float64))
        assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
        assert w.grad.shape == (n,) and b.grad.shape == (1, n)
        np.testing.assert_allclose(w.grad.data, 0.7, rtol=1e-6)
        np.testing.assert_allclose(b.grad.data, 0.5, rtol=1e-6)
        Adam([w, b]).step()


def test_optimizer_and_module_state_after_deferred_zero() -> None:
    engine.set_default_dtype(F64)
    np.random.seed(0)
    model = Linear(10, 10)
    opt = Adam(model.get_parameters())
    x = t64(np.random.rand(4, 10), grad=False)
    model(x).sum().backward()
    opt.step()
    state = opt.state_dict()
    np.testing.assert_allclose(state["m.1"], 0.1 * 4)
    for p in model.get_parameters():
        np.testing.assert_array_equal(p.grad.data, 0)
    torch_state = model.torch_state_dict()
    np.testing.assert_array_equal(torch_state["weight"], model.weight.data.T)


def test_against_torch_two_passes_and_a_step() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    w0, b0, x0 = rng.normal(size=(10, 10)), rng.normal(size=(10,)), rng.normal(size=(6, 10))
    w, b = t64(w0), t64(b0)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    opt, topt = SGD([w, b], alpha=0.1), torch.optim.SGD([tw, tb], lr=0.1)
    x, tx = t64(x0, False), torch.tensor(x0)
    for _ in range(3):
        for _ in range(2):
            (((x.mm(w) + b).tanh() + w.sum(0)) * (w + b).sum(0)).sum().backward()
            (((tx @ tw + tb).tanh() + tw.sum(0)) * (tw + tb).sum(0)).sum().backward()
        np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-10)
        opt.step()
        topt.step()
        topt.zero_grad(set_to_none=False)
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10)
        np.testing.assert_array_equal(w.grad.data, 0)


def test_two_threads_run_backward_on_separate_graphs() -> None:
    def train(seed: int, out: list[Any]) -> None:
        rng = np.random.default_rng(seed)
        w = t64(rng.normal(size=(20, 20)))
        x = t64(rng.normal(size=(8, 20)), False)
        opt = SGD([w], alpha=0.01)
        for _ in range(30):
            (x.mm(w).tanh() * x.mm(w)).sum().backward()
            opt.step()
        out.append(w.data.copy())

    alone: list[Any] = []
    for seed in (1, 2):
        train(seed, alone)
    together: list[list[Any]] = [[], []]
    threads = [threading.Thread(target=train, args=(s, together[s - 1])) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b[0])


_TRACED_IMPORT = """
import sys
def tracer(frame, event, arg):
    frame.f_locals  # what a debugger or a tracing tool does: a snapshot of the locals
    return tracer
sys.settrace(tracer)
import engine
sys.settrace(None)
import numpy as np
from engine import Function, Tensor
class Keep(Function):
    op_name = "keep"
    def forward(self, x):
        return x * 1
    def backward(self, grad):
        self.kept = grad * 2  # saved on the op
        return (self.kept,)
w = Tensor(np.zeros(100), autograd=True)
y = Keep.apply(w)
y.backward(np.ones(100), retain_graph=True)
w.grad.data += 5
print(float(y._fn.kept[0]), w.grad.data is y._fn.kept)
"""


def test_bug_calibration_under_a_tracer_makes_saved_arrays_look_private() -> None:
    """BUG (d9a3120): ``_calibrate`` runs once, at import; a trace function that reads
    ``frame.f_locals`` then (a debugger, a snooper) adds a reference to every local, so the
    "private" count comes out higher (6 instead of 5); once tracing stops, an array the op
    keeps counts as private: the leaf takes it and ``+=`` modifies the op's saved array."""
    root = Path(engine.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _TRACED_IMPORT], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["2.0", "False"]
