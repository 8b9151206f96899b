"""Losses: values against NumPy, gradients against finite differences, stability, errors."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, ShapeError, Tensor, gradcheck


@pytest.fixture
def float64():
    engine.set_default_dtype(np.float64)
    np.random.seed(0)
    yield
    engine.set_default_dtype(np.float32)


def log_softmax(x):
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_mse_sum_is_the_books_shape_and_value():
    pred = Tensor(np.array([[0.5], [0.2], [0.9]]), autograd=True)
    target = Tensor(np.array([[1.0], [0.0], [1.0]]), autograd=True)
    loss = MSELoss().forward(pred, target)
    assert loss.shape == (1,)
    np.testing.assert_allclose(loss.numpy(), [0.25 + 0.04 + 0.01], rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * (pred.numpy() - target.numpy()), rtol=1e-6)


def test_mse_multi_output_and_mean():
    pred, target = np.random.randn(4, 3), np.random.randn(4, 3)
    sums = MSELoss()(Tensor(pred), target)  # the book's formula: one sum per output
    assert sums.shape == (3,)
    np.testing.assert_allclose(sums.numpy(), ((pred - target) ** 2).sum(0), rtol=1e-5)
    mean = MSELoss("mean")(Tensor(pred), target)
    assert np.isclose(mean.item(), ((pred - target) ** 2).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        MSELoss("max")


def test_mse_sum_gradient_matches_torch_on_several_outputs():
    torch = pytest.importorskip("torch")
    pred, target = np.random.randn(4, 3), np.random.randn(4, 3)
    mine = Tensor(pred, autograd=True)
    MSELoss()(mine, Tensor(target)).backward()
    theirs = torch.tensor(pred, requires_grad=True)
    torch.nn.functional.mse_loss(theirs, torch.tensor(target), reduction="sum").backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 4), (3, 6, 4)])
def test_cross_entropy_value_and_gradient(float64, shape):
    logits = Tensor(np.random.randn(*shape) * 3, autograd=True)
    target = np.random.randint(0, 4, shape[:-1])
    loss = CrossEntropyLoss()(logits, target)
    expected = -np.take_along_axis(log_softmax(logits.numpy()), target[..., None], -1).mean()
    assert loss.shape == () and np.isclose(loss.item(), expected)
    assert gradcheck(lambda x: CrossEntropyLoss()(x, target), [logits])


def test_cross_entropy_accepts_tensor_targets_and_is_stable():
    logits = Tensor(np.array([[1000.0, 0.0], [0.0, -1000.0]]), autograd=True)
    loss = CrossEntropyLoss().forward(logits, Tensor(np.array([1, 0])))
    assert np.isclose(loss.item(), 500.0)
    loss.backward()
    assert np.all(np.isfinite(logits.grad.numpy()))
    np.testing.assert_allclose(logits.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]], atol=1e-6)


def test_cross_entropy_shape_error():
    with pytest.raises(ShapeError, match=r"need 3 targets, shaped \(3,\), got \(4,\)"):
        CrossEntropyLoss()(Tensor(np.zeros((3, 2))), np.zeros(4, dtype=int))
    column = CrossEntropyLoss()(Tensor(np.eye(3)), np.array([[0], [1], [2]]))  # the book's way
    assert np.isclose(column.item(), CrossEntropyLoss()(Tensor(np.eye(3)), np.arange(3)).item())


def test_bce_with_logits(float64):
    x = Tensor(np.random.randn(6, 2) * 4, autograd=True)
    y = (np.random.rand(6, 2) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-x.numpy()))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert np.isclose(BCEWithLogitsLoss()(x, y).item(), expected)
    assert gradcheck(lambda t: BCEWithLogitsLoss()(t, y), [x])
    huge = BCEWithLogitsLoss()(Tensor(np.array([[800.0], [-800.0]])), np.array([[0.0], [1.0]]))
    assert np.isclose(huge.item(), 800.0)
    with pytest.raises(ShapeError, match="BCEWithLogitsLoss"):
        BCEWithLogitsLoss()(x, np.zeros(6))


def test_mse_gradcheck(float64):
    pred = Tensor(np.random.randn(4, 2), autograd=True)
    target = np.random.randn(4, 2)
    assert gradcheck(lambda t: MSELoss()(t, target), [pred])
    assert gradcheck(lambda t: MSELoss("mean")(t, target), [pred])


def test_cross_entropy_in_float16_is_computed_in_float32_and_stays_float16() -> None:
    logits = np.random.default_rng(4).standard_normal((6, 5)) * 3
    target = [0, 4, 2, 2, 1, 3]
    results = []
    for dtype in (np.float16, np.float32):
        engine.set_default_dtype(dtype)
        x = Tensor(logits.astype(dtype), autograd=True)
        loss = x.cross_entropy(Tensor(target))
        loss.backward()
        assert loss.data.dtype == dtype and x.grad.data.dtype == dtype
        results.append([loss.data, x.grad.data])
    for half, single in zip(*results, strict=True):
        np.testing.assert_allclose(half.astype(np.float32), single, rtol=0.01, atol=1e-3)
