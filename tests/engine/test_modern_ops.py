"""GELU, SiLU, permute, masked_fill, var and the masked softmax: finite differences and PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import EngineError, ShapeError, Tensor, gradcheck

RNG = np.random.default_rng(7)
MASK = RNG.random((3, 5)) < 0.4
MASK[0] = True  # a row masked everywhere gives zeros


@pytest.fixture(autouse=True)
def float64() -> Any:
    engine.set_default_dtype(np.float64)
    yield
    engine.set_default_dtype(np.float32)


CASES: dict[str, tuple[Callable[[Tensor], Tensor], str]] = {
    "gelu": (lambda x: x.gelu(), "torch.nn.functional.gelu(x)"),
    "gelu_tanh": (
        lambda x: x.gelu(approximate="tanh"),
        "torch.nn.functional.gelu(x, approximate='tanh')",
    ),
    "silu": (lambda x: x.silu(), "torch.nn.functional.silu(x)"),
    "permute": (
        lambda x: x.reshape(3, 5, 1).permute(2, 0, 1),
        "x.reshape(3, 5, 1).permute(2, 0, 1)",
    ),
    "permute_negative": (lambda x: x.permute(-1, 0), "x.permute(-1, 0)"),
    "masked_fill": (lambda x: x.masked_fill(MASK, -2.5), "x.masked_fill(mask, -2.5)"),
    "var_dim": (lambda x: x.var(1), "x.var(1, unbiased=False)"),
    "var_keep": (lambda x: x.var(0, keepdims=True), "x.var(0, unbiased=False, keepdim=True)"),
    "var_all": (lambda x: x.var(), "x.var(unbiased=False)"),
    "softmax_mask": (
        lambda x: x.softmax(-1, mask=MASK[1:]),
        "torch.nan_to_num(torch.softmax(x.masked_fill(mask[1:], float('-inf')), -1))",
    ),
    "softmax_dim0_mask": (
        lambda x: x.softmax(0, mask=MASK[1:]),
        "torch.nan_to_num(torch.softmax(x.masked_fill(mask[1:], float('-inf')), 0))",
    ),
}


def _input(name: str) -> np.ndarray:
    return RNG.standard_normal((2, 5) if name.startswith("softmax") else (3, 5)) * 2


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name: str) -> None:
    ours, _ = CASES[name]
    x = Tensor(_input(name), autograd=True)
    assert gradcheck(ours, [x], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_match_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = CASES[name]
    a = _input(name)
    x = Tensor(a, autograd=True)
    t = torch.tensor(a, requires_grad=True)
    out = ours(x)
    ref = eval(theirs, {"torch": torch, "x": t, "mask": torch.tensor(MASK)})
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = RNG.standard_normal(ref.shape)
    out.backward(weights)
    ref.backward(torch.tensor(weights))
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_fully_masked_rows_are_zero_not_nan() -> None:
    out = Tensor(RNG.standard_normal((3, 5))).softmax(mask=MASK)
    assert np.all(out.data[0] == 0)
    np.testing.assert_allclose(out.data[1:].sum(-1), 1.0)


def test_bad_arguments_raise_clear_errors() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="not an ordering"):
        x.permute(0, 0)
    with pytest.raises(EngineError, match="approximate"):
        x.gelu(approximate="fast")
    with pytest.raises(ShapeError, match="dim 2 is out of range"):
        x.softmax(2, mask=np.zeros((2, 3), bool))
