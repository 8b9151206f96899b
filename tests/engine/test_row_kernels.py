"""The row kernels (``engine/kernels/softmax.py``, ``engine/kernels/lanes.py``) against the
unfused maths written in NumPy: float64 tightly, float32 loosely, every row length around the
eight lanes, causal rows, NaN and infinities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

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
