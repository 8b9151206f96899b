"""The float32 error function and normal CDF (``engine/ops/erf.py``) and the float32 GELU built
on them: against SciPy's float64 erf, the float64 GELU and PyTorch's float32 GELU."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special  # type: ignore[import-untyped]

from engine import Tensor
from engine.ops.erf import erf, erf_float32, normal_cdf

GRID = np.linspace(-9, 9, 400_001, dtype=np.float32)


def test_float32_erf_is_within_its_stated_error() -> None:
    exact = special.erf(GRID.astype(np.float64))
    ours = erf_float32(GRID)
    assert ours.dtype == np.float32
    assert np.abs(ours - exact).max() < 4e-7
    assert np.array_equal(erf(GRID), ours)
    tiny = np.float32([0.0, 1e-30, -1e-30, 1e-8])
    assert np.array_equal(erf_float32(tiny), (tiny * np.float32(2 / math.sqrt(math.pi))))


def test_float32_cdf_is_within_its_stated_error_and_exact_limits() -> None:
    exact = 0.5 * (1 + special.erf(GRID.astype(np.float64) / math.sqrt(2)))
    ours = normal_cdf(GRID)
    assert ours.dtype == np.float32
    assert np.abs(ours - exact).max() < 3e-7
    ends = normal_cdf(np.float32([-np.inf, -40.0, 0.0, 40.0, np.inf]))
    assert ends.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert np.isnan(normal_cdf(np.float32([np.nan]))).all()


def test_float64_keeps_scipys_exact_erf() -> None:
    x = GRID.astype(np.float64)
    assert np.array_equal(erf(x), special.erf(x))
    assert np.array_equal(normal_cdf(x), 0.5 * (1.0 + special.erf(x * (1.0 / math.sqrt(2.0)))))


def test_float32_gelu_and_its_gradient_match_float64() -> None:
    rng = np.random.default_rng(3)
    x64 = np.concatenate([rng.standard_normal(5000) * 3, [0.0, -6.0, 6.0, -12.0, 12.0]])
    grad = rng.standard_normal(x64.shape)
    results = []
    for dtype in (np.float32, np.float64):
        x = Tensor(x64, autograd=True, dtype=dtype)
        out = x.gelu()
        out.backward(Tensor(grad, dtype=dtype))
        assert out.data.dtype == dtype and x.grad.data.dtype == dtype
        results.append((out.data.astype(np.float64), x.grad.data.astype(np.float64)))
    (out32, grad32), (out64, grad64) = results
    np.testing.assert_allclose(out32, out64, rtol=1e-6, atol=3e-7 * np.abs(x64).max())
    np.testing.assert_allclose(grad32, grad64, rtol=2e-6, atol=1e-6)


def test_float32_gelu_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x32 = (rng.standard_normal((64, 128)) * 3).astype(np.float32)
    g32 = rng.standard_normal(x32.shape).astype(np.float32)
    x = Tensor(x32, autograd=True)
    out = x.gelu()
    out.backward(Tensor(g32))
    t = torch.tensor(x32, requires_grad=True)
    ref = torch.nn.functional.gelu(t)
    ref.backward(torch.from_numpy(g32))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-6, atol=2e-6)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-5, atol=1e-6)
