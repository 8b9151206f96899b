"""The packed-weight product (``engine/kernels/panels.py``) against NumPy's product, and the LSTM
layers on it against the same layers on BLAS: float64 tightly, float32 to rounding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine import LSTM, Embedding, Tensor
from engine.kernels import panels
from engine.nn import lstm_steps

TOL = {np.float32: 2e-5, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("k", "n", "batch"),
    [(257, 1024, 32), (33, 50, 7), (8, 64, 4), (70, 130, 1), (70, 130, 2), (70, 130, 3), (5, 3, 5)],
)
def test_packed_product_equals_numpy(dtype: Any, k: int, n: int, batch: int) -> None:
    rng = np.random.default_rng(k * n + batch)
    w = rng.standard_normal((k, n)).astype(dtype)
    x = rng.standard_normal((k, batch)).astype(dtype)
    packed = panels.pack(w)
    assert packed.shape == (-(-n // panels.PANEL), k, panels.PANEL)
    assert not packed[-1, :, n - (len(packed) - 1) * panels.PANEL :].any()  # zero padding
    for k0 in (0, 1, k // 2, k):
        out = np.full((n, batch), np.nan, dtype)
        panels.packed_product(x, packed, out, k0)
        expected = w[k0:].T.astype(np.float64) @ x[k0:]
        scale = np.abs(w[k0:]).T @ np.abs(x[k0:])
        assert np.all(np.abs(out - expected) <= TOL[dtype] * scale)


def test_pack_casts_to_the_working_dtype() -> None:
    w = np.arange(12, dtype=np.float16).reshape(3, 4)
    packed = panels.pack(w.T, np.float32)
    assert packed.dtype == np.float32 and packed.flags.c_contiguous
    np.testing.assert_array_equal(packed[0, :, :3], w.T.astype(np.float32))


@pytest.mark.parametrize(("k", "n"), [(1024, 256), (33, 70), (5, 3), (17, 64)])
def test_a_transposed_weight_packs_as_a_contiguous_one(k: int, n: int) -> None:
    w = np.random.default_rng(k).standard_normal((n, k)).astype(np.float32).T  # F-ordered
    assert not w.flags.c_contiguous
    np.testing.assert_array_equal(panels.pack(w), panels.pack(np.ascontiguousarray(w)))


def test_pays_follows_the_vector_width(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    panels.pays.cache_clear()
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2,+fma,-avx512f")
    assert not panels.pays()
    panels.pays.cache_clear()
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2,+avx512f,+avx512bw")
    assert panels.pays()
    panels.pays.cache_clear()
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "")  # what NUMBA_CPU_NAME=generic sets
    assert not panels.pays()
    panels.pays.cache_clear()


def _run(
    forward: Any, params: list[Tensor], x: Any, packed: bool, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The output and every parameter's gradient, with the steps on the kernel or on BLAS."""
    monkeypatch.setattr(panels, "pays", lambda: packed)
    for p in params:
        p.grad = None
    out = forward(x)
    out.backward(Tensor(np.cos(np.arange(out.data.size)).reshape(out.shape)))
    return [out.data, *(p.grad.data for p in params)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("embedded", [False, True])
def test_lstm_on_the_kernel_equals_lstm_on_blas(
    dtype: Any, embedded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.nn.lstm_embedded import EmbeddedLSTMFn

    rng = np.random.default_rng(3)
    batch, steps, feats, hidden = 13, 9, 40, 70  # 4H = 280: a partial panel
    lstm, emb = LSTM(feats, hidden), Embedding(20, feats)
    params = [*emb.get_parameters(), *lstm.get_parameters()] if embedded else lstm.get_parameters()
    for p in params:
        p.data = p.data.astype(dtype)
    if embedded:  # folded into a projection table (engine/nn/lstm_embedded.py)
        x = Tensor(rng.integers(0, 20, (batch, steps)))
        forward: Any = lambda ids: lstm(emb(ids))  # noqa: E731
        assert type(forward(x)._fn) is EmbeddedLSTMFn
    else:
        x = Tensor(rng.standard_normal((batch, steps, feats)).astype(dtype), autograd=True)
        forward = lstm
    on_kernel = _run(forward, params, x, True, monkeypatch)
    on_blas = _run(forward, params, x, False, monkeypatch)
    for a, b in zip(on_kernel, on_blas, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=50 * TOL[dtype] * np.abs(b).max())


def test_the_step_product_leaves_out_the_rows_before_k0() -> None:
    rng = np.random.default_rng(0)
    weight, x = rng.standard_normal((96, 40)), rng.standard_normal((40, 6))
    out = np.empty((96, 6))
    lstm_steps.step_product(weight, x, out, 10)
    np.testing.assert_allclose(out, weight[:, 10:] @ x[10:], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_product_rows_and_pack_steps(dtype: Any) -> None:
    rng = np.random.default_rng(5)
    steps, n, batch, k = 3, 70, 6, 9
    dz = rng.standard_normal((steps, n, batch)).astype(dtype)
    as_rows = dz.transpose(0, 2, 1).reshape(steps * batch, n)  # row t·B + b is dz[t, :, b]
    np.testing.assert_array_equal(panels.pack_steps(dz), panels.pack(as_rows))
    x = rng.standard_normal((steps * batch, k)).astype(dtype)
    out = np.full((k, n), np.nan, dtype)
    panels.packed_product_rows(x, panels.pack_steps(dz), out)
    np.testing.assert_allclose(out, x.T @ as_rows, rtol=0, atol=50 * TOL[dtype])


def test_long_weight_gradient_sums_round_as_blas_does() -> None:
    """T·B terms per element, summed in chunks: float32 error as small as BLAS's (summed one
    after another it was 14 times larger at 25,600 terms)."""
    rng = np.random.default_rng(9)
    terms, k, n = 25_600, 3, 70
    x = rng.standard_normal((terms, k)).astype(np.float32)
    w = rng.standard_normal((terms, n)).astype(np.float32)
    exact = x.T.astype(np.float64) @ w
    out = np.empty((k, n), np.float32)
    panels.packed_product_rows(x, panels.pack(w), out)
    scale = np.abs(exact).max()
    assert np.abs(out - exact).max() / scale < 2 * np.abs(x.T @ w - exact).max() / scale + 1e-7
