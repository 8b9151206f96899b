"""PyTorch as an oracle: values and gradients of a few ops and a small network agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import Tensor

torch = pytest.importorskip("torch")


def compare(ours: Callable[..., Tensor], theirs: Callable[..., Any], *arrays: np.ndarray) -> None:
    """Run both functions on the same float64 inputs; outputs and input gradients must agree."""
    xs = [Tensor(a, autograd=True, dtype=np.float64) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(0).standard_normal(ref.shape)
    out.backward(weights)
    ref.backward(torch.tensor(weights))
    for x, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


RNG = np.random.default_rng(42)


def test_mlp_with_cross_entropy() -> None:
    x, w1, b1, w2 = (RNG.standard_normal(s) for s in [(6, 4), (4, 5), (5,), (5, 3)])
    target = np.array([0, 2, 1, 1, 0, 2])

    def ours(x_, w1_, b1_, w2_):
        return (x_.mm(w1_) + b1_).relu().mm(w2_).cross_entropy(Tensor(target))

    def theirs(x_, w1_, b1_, w2_):
        logits = (x_ @ w1_ + b1_).relu() @ w2_
        return torch.nn.functional.cross_entropy(logits, torch.tensor(target))

    compare(ours, theirs, x, w1, b1, w2)


def test_sequence_cross_entropy_averages_every_position() -> None:
    logits = RNG.standard_normal((2, 3, 4))
    target = np.array([[0, 1, 3], [2, 2, 1]])
    compare(
        lambda x: x.cross_entropy(Tensor(target)),
        lambda x: torch.nn.functional.cross_entropy(
            x.reshape(-1, 4), torch.tensor(target).reshape(-1)
        ),
        logits,
    )


@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    [
        ("sigmoid_tanh", lambda x: x.sigmoid() * x.tanh(), lambda x: x.sigmoid() * x.tanh()),
        ("softmax", lambda x: x.softmax(0), lambda x: x.softmax(0)),
        ("log_softmax", lambda x: x.log_softmax(), lambda x: x.log_softmax(-1)),
        ("max", lambda x: x.max(1), lambda x: x.max(1).values),
        ("leaky", lambda x: x.leaky_relu(0.2), lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
        ("clip", lambda x: x.clip(-0.3, 0.4), lambda x: x.clamp(-0.3, 0.4)),
        ("getitem", lambda x: x[[1, 1, 0], 1:], lambda x: x[[1, 1, 0], 1:]),
        ("mean_pow", lambda x: (x**3).mean(0), lambda x: (x**3).mean(0)),
        ("abs_sqrt", lambda x: (x.abs() + 1).sqrt(), lambda x: (x.abs() + 1).sqrt()),
    ],
)
def test_unary_ops(name: str, ours: Callable[..., Tensor], theirs: Callable[..., Any]) -> None:
    compare(ours, theirs, RNG.standard_normal((3, 4)))


def test_batched_matmul_broadcasting() -> None:
    a, b = RNG.standard_normal((2, 1, 3, 4)), RNG.standard_normal((5, 4, 2))
    compare(lambda p, q: p @ q, lambda p, q: p @ q, a, b)


def test_concat_stack_expand() -> None:
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    compare(
        lambda p, q: engine.stack([p, engine.concat([p, q], dim=1)[:, :3]], dim=0) * q.expand(0, 2),
        lambda p, q: (
            torch.stack([p, torch.cat([p, q], dim=1)[:, :3]], dim=0)
            * q.unsqueeze(0).expand(2, 2, 3)
        ),
        a,
        b,
    )


def test_lstm_like_cell_unrolled() -> None:
    """A recurrent graph where the state feeds several ops at every step (the book's failure)."""
    wx, wh = RNG.standard_normal((3, 8)) * 0.5, RNG.standard_normal((2, 8)) * 0.5
    xs = RNG.standard_normal((5, 4, 3))

    def run(wx_, wh_, tensor, sig, tanh):
        h = c = tensor(np.zeros((4, 2)))
        total = 0
        for t in range(5):
            z = tensor(xs[t]) @ wx_ + h @ wh_
            f, i, o, g = sig(z[:, 0:2]), sig(z[:, 2:4]), sig(z[:, 4:6]), tanh(z[:, 6:8])
            c = f * c + i * g
            h = o * tanh(c)
            total = total + (h * h).sum()
        return total

    compare(
        lambda a, b: run(a, b, lambda v: Tensor(v, dtype=np.float64), Tensor.sigmoid, Tensor.tanh),
        lambda a, b: run(a, b, torch.tensor, torch.sigmoid, torch.tanh),
        wx,
        wh,
    )
