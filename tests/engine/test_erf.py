"""The error function, the normal CDF and GELU (``engine/ops/erf.py``, the kernels of
``engine/kernels/gaussian.py``): float32 against SciPy's float64 erf, the float64 GELU and
PyTorch's float32 GELU; float64 against the unfused maths and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special  # type: ignore[import-untyped]

from engine import Tensor
from engine.gradcheck import gradcheck
from engine.ops.erf import erf, normal_cdf

GRID = np.linspace(-9, 9, 400_001, dtype=np.float32)


def test_float32_erf_is_within_its_stated_error() -> None:
    exact = special.erf(GRID.astype(np.float64))
    ours = erf(GRID)
    assert ours.dtype == np.float32 and ours.shape == GRID.shape
    assert np.abs(ours - exact).max() < 4e-7
    tiny = np.float32([0.0, 1e-30, -1e-30, 1e-8])
    assert np.array_equal(erf(tiny), (tiny * np.float32(2 / math.sqrt(math.pi))))
    ends = erf(np.float32([-np.inf, -9.0, 9.0, np.inf, np.nan]))
    assert ends[:4].tolist() == [-1.0, -1.0, 1.0, 1.0] and np.isnan(ends[4])


def test_float32_cdf_is_within_its_stated_error_and_exact_limits() -> None:
    exact = 0.5 * (1 + special.erf(GRID.astype(np.float64) / math.sqrt(2)))
    ours = normal_cdf(GRID)
    assert ours.dtype == np.float32
    assert np.abs(ours - exact).max() < 3e-7
    ends = normal_cdf(np.float32([-np.inf, -40.0, 0.0, 40.0, np.inf]))
    assert ends.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert np.isnan(normal_cdf(np.float32([np.nan]))).all()


def test_float64_is_the_exact_erf_and_other_inputs_are_converted() -> None:
    x = GRID[1:].astype(np.float64).reshape(4, -1)[:, ::3]  # not contiguous: copied for the kernel
    np.testing.assert_allclose(erf(x), special.erf(x), rtol=0, atol=4e-16)
    cdf = 0.5 * (1.0 + special.erf(x * (1.0 / math.sqrt(2.0))))
    np.testing.assert_allclose(normal_cdf(x), cdf, rtol=0, atol=4e-16)
    assert erf(np.arange(3)).dtype == np.float64  # integers: float64, as SciPy
    half = erf(np.float16([0.5, -2.0]))
    assert half.dtype == np.float16
    np.testing.assert_allclose(half, special.erf([0.5, -2.0]), atol=1e-3)
    assert float(erf(np.float64(0.5))) == pytest.approx(math.erf(0.5))


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


def test_fused_gelu_kernels_match_the_unfused_maths_in_float64() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(3000) * 4, [0.0, -40.0, 40.0]]).reshape(-1, 3)
    g = rng.standard_normal(x.shape)
    t = Tensor(x, autograd=True, dtype=np.float64)
    out = t.gelu()
    out.backward(Tensor(g, dtype=np.float64))
    cdf = 0.5 * (1.0 + special.erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    np.testing.assert_allclose(out.data, x * cdf, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(t.grad.data, g * (cdf + x * pdf), rtol=1e-13, atol=1e-15)


def test_gelu_gradient_against_finite_differences() -> None:
    x = Tensor(
        np.random.default_rng(6).standard_normal((5, 7)) * 2, autograd=True, dtype=np.float64
    )
    assert gradcheck(lambda a: a.gelu(), [x])


def test_float32_gelu_on_several_engine_threads_is_bit_for_bit_one_thread() -> None:
    import engine

    x32 = (np.random.default_rng(7).standard_normal((512, 600)) * 3).astype(np.float32)
    results = []
    for threads in (1, 2):
        engine.set_num_threads(threads)
        try:
            t = Tensor(x32, autograd=True)
            out = t.gelu()
            out.backward(Tensor(np.ones_like(x32)))
            results.append((out.data, t.grad.data))
        finally:
            engine.set_num_threads(1)
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
