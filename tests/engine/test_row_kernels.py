"""The row kernels (``engine/kernels/softmax.py``, ``norm.py``, ``lanes.py``) against the
unfused maths written in NumPy: float64 tightly, float32 loosely, every row length around the
eight lanes, causal rows, NaN and infinities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.kernels import norm
from engine.kernels import softmax as kernels
from engine.kernels.compiler import kernel
from engine.kernels.lanes import row_dot, row_max, row_sum

RNG = np.random.default_rng(7)
TOLERANCE = {np.float64: 1e-14, np.float32: 2e-6}


def unfused_softmax(scores: np.ndarray, steps: int, causal: bool) -> np.ndarray:
    """Scores (rows, S), row r at step r % steps: the masked softmax by array operations."""
    s = scores.shape[1]
    w = scores.astype(np.float64)
    if causal:
        t = np.arange(scores.shape[0])[:, None] % steps
        w = np.where(np.arange(s)[None, :] > t, -np.inf, w)
    w = np.exp(w - w.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def unfused_backward(w: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """The softmax gradient ``w (dw - sum(w dw))`` by array operations, in float64."""
    w, dw = w.astype(np.float64), dw.astype(np.float64)
    return w * (dw - (w * dw).sum(axis=1, keepdims=True))


CASES = [(5, 1, 1), (12, 4, 4), (24, 8, 8), (36, 9, 9), (40, 20, 17), (30, 10, 25), (64, 64, 64)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("rows", "steps", "source"), CASES)
def test_softmax_matches_the_unfused_maths(
    dtype: Any, causal: bool, rows: int, steps: int, source: int
) -> None:
    scores = (RNG.standard_normal((rows, source)) * 4).astype(dtype)
    w = scores.copy()
    kernels.softmax_forward(w, steps, causal)
    expected = unfused_softmax(scores, steps, causal)
    np.testing.assert_allclose(w, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    if causal:  # exactly zero where masked
        hidden = np.arange(source)[None, :] > (np.arange(rows) % steps)[:, None]
        assert (w[hidden] == 0).all()
    dw = RNG.standard_normal((rows, source)).astype(dtype)
    grad = dw.copy()
    kernels.softmax_backward(w, grad, steps, causal)
    expected_grad = unfused_backward(w, dw)
    np.testing.assert_allclose(grad, expected_grad, rtol=10 * TOLERANCE[dtype], atol=1e-5)
    assert w.dtype == grad.dtype == dtype


def test_softmax_nan_and_infinity_rows_are_nan_as_with_array_operations() -> None:
    scores = np.zeros((3, 9), np.float32)
    scores[0, 4] = np.nan
    scores[1, 2] = np.inf
    scores[2, 8] = 1e30  # large but finite: one weight 1, the others 0
    kernels.softmax_forward(scores, 3, False)
    assert np.isnan(scores[0]).all() and np.isnan(scores[1]).all()
    assert scores[2, 8] == 1.0 and (scores[2, :8] == 0).all()


def test_an_empty_source_is_left_alone() -> None:
    w = np.zeros((4, 0))
    kernels.softmax_forward(w, 2, True)
    kernels.softmax_backward(w, w.copy(), 2, True)


@kernel
def _reduce(a: Any, b: Any, out: Any) -> None:
    for r in range(a.shape[0]):
        n = a.shape[1] - r
        out[r, 0] = row_sum(a[r], n)
        out[r, 1] = row_dot(a[r], b[r], n)
        out[r, 2] = row_max(a[r], max(n, 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lane_reductions_match_numpy_for_every_length(dtype: Any) -> None:
    width = 35  # rows of 35 down to 1 elements (the lanes and the remainder)
    a = RNG.standard_normal((width, width)).astype(dtype)
    b = RNG.standard_normal((width, width)).astype(dtype)
    out = np.empty((width, 3), dtype)
    _reduce(a, b, out)
    for r in range(width):
        n = width - r
        x, y = a[r, :n].astype(np.float64), b[r, :n].astype(np.float64)
        tol = TOLERANCE[dtype] * 10
        assert out[r, 0] == pytest.approx(x.sum(), rel=tol, abs=tol)
        assert out[r, 1] == pytest.approx(x @ y, rel=tol, abs=tol)
        assert out[r, 2] == x.max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", [1, 7, 8, 13, 128])
def test_layer_norm_matches_the_unfused_maths(dtype: Any, width: int) -> None:
    x = (RNG.standard_normal((6, width)) * 3 + 2).astype(dtype)
    w, b, g = (RNG.standard_normal(s).astype(dtype) for s in (width, width, (6, width)))
    xhat, rstd, out, dx = np.empty_like(x), np.empty(6, dtype), np.empty_like(x), np.empty_like(x)
    norm.layer_norm_forward(x, w, b, 1e-5, xhat, rstd, out)
    norm.layer_norm_backward(g, w, xhat, rstd, dx)
    x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    centred = x64 - x64.mean(axis=1, keepdims=True)
    std = np.sqrt((centred**2).mean(axis=1, keepdims=True) + 1e-5)
    ref_xhat = centred / std
    gw = g64 * w64
    ref_dx = gw - gw.mean(1, keepdims=True) - ref_xhat * (gw * ref_xhat).mean(1, keepdims=True)
    tol = 10 * TOLERANCE[dtype]
    np.testing.assert_allclose(xhat, ref_xhat, rtol=tol, atol=tol)
    np.testing.assert_allclose(rstd, 1.0 / std[:, 0], rtol=tol)
    np.testing.assert_allclose(out, ref_xhat * w64 + b, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, ref_dx / std, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("classes", [1, 5, 8, 64])
def test_cross_entropy_matches_the_unfused_maths(dtype: Any, classes: int) -> None:
    x = (RNG.standard_normal((9, classes)) * 5).astype(dtype)
    t = RNG.integers(0, classes, 9)
    p, losses, g = np.empty_like(x), np.empty(9, dtype), np.empty_like(x)
    kernels.cross_entropy_forward(x, t, p, losses)
    kernels.cross_entropy_backward(p, t, 0.25, g)
    x64 = x.astype(np.float64)
    shifted = x64 - x64.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(classes)[t]
    tol = 10 * TOLERANCE[dtype]
    np.testing.assert_allclose(losses, -log_p[np.arange(9), t], rtol=tol, atol=tol)
    np.testing.assert_allclose(p, np.exp(log_p), rtol=tol, atol=tol)
    np.testing.assert_allclose(g, (np.exp(log_p) - onehot) * 0.25, rtol=tol, atol=tol)
