"""The recurrent layers' compiled step kernels (``engine/kernels/recurrent.py``: the LSTM, the
book's LSTMCell, the GRU) against the unfused maths written here in plain NumPy (float64 tightly,
float32 loosely), and the layers built on them: float64 gradients against finite differences,
float16 computed in float32."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine
from engine import LSTM, Tensor, gradcheck
from engine.kernels import recurrent
from engine.nn.sequence import LSTMSequenceFn

N, B = 5, 3  # hidden units, batch


def sigmoid(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-z))


def unfused_forward(z: Any, c_prev: Any) -> tuple[Any, ...]:
    """Gate activations, c, tanh(c) and h of one step from the pre-activations (4, N, B)."""
    f, i, o, g = sigmoid(z[0]), sigmoid(z[1]), sigmoid(z[2]), np.tanh(z[3])
    c = f * c_prev + i * g
    return np.stack([f, i, o, g]), c, np.tanh(c), o * np.tanh(c)


def unfused_backward(acts: Any, c_prev: Any, dh: Any, dc: Any) -> tuple[Any, Any]:
    """Pre-activation gradients (4, N, B) and the gradient reaching c_prev."""
    f, i, o, g = acts
    tanh_c = np.tanh(f * c_prev + i * g)
    grad_c = dc + dh * o * (1 - tanh_c**2)
    d = np.stack(
        [
            grad_c * c_prev * f * (1 - f),
            grad_c * g * i * (1 - i),
            dh * tanh_c * o * (1 - o),
            grad_c * i * (1 - g**2),
        ]
    )
    return d, grad_c * f


def step_inputs(rng: np.random.Generator) -> tuple[Any, Any]:
    z = rng.normal(scale=3.0, size=(4, N, B))
    z[:, 0, 0] = [40.0, -40.0, 0.0, 1e-9]  # saturated gates and a tiny g
    return z, rng.normal(size=(N, B))


def run_forward(z: Any, c_prev: Any, dtype: Any) -> tuple[Any, ...]:
    a = z.astype(dtype)
    a[3] *= 2  # the g block arrives doubled
    a = a.reshape(-1)
    c, tanh_c, h = (np.empty(N * B, dtype) for _ in range(3))
    recurrent.lstm_forward(a, c_prev.astype(dtype).reshape(-1), c, tanh_c, h)
    return a.reshape(4, N, B), c.reshape(N, B), tanh_c.reshape(N, B), h.reshape(N, B)


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_forward_kernel_matches_the_unfused_maths(dtype: Any, tol: float) -> None:
    z, c_prev = step_inputs(np.random.default_rng(0))
    ours = run_forward(z, c_prev, dtype)
    for got, want in zip(ours, unfused_forward(z, c_prev), strict=True):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_backward_kernel_matches_the_unfused_maths(dtype: Any, tol: float) -> None:
    rng = np.random.default_rng(1)
    z, c_prev = step_inputs(rng)
    acts = unfused_forward(z, c_prev)[0]
    dh_out, dh_next, dc = (rng.normal(size=(N, B)) for _ in range(3))
    want_d, want_dc = unfused_backward(acts, c_prev, dh_out + dh_next, dc)
    tanh_c = np.tanh(acts[0] * c_prev + acts[1] * acts[3])
    arrays = [v.astype(dtype).reshape(-1) for v in (acts, c_prev, tanh_c, dh_out, dh_next, dc)]
    d = np.empty(4 * N * B, dtype)
    recurrent.lstm_backward(*arrays, d)
    np.testing.assert_allclose(d.reshape(4, N, B), want_d, rtol=0, atol=tol)
    np.testing.assert_allclose(arrays[5].reshape(N, B), want_dc, rtol=0, atol=tol)


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_book_cell_kernels_match_the_unfused_maths(dtype: Any, tol: float) -> None:
    """The batch-major kernels of ``LSTMCell``: columns are the gate blocks, the bias added."""
    rng = np.random.default_rng(5)
    z, c_prev = step_inputs(rng)
    bias = rng.normal(size=4 * N)
    xw = z.transpose(2, 0, 1).reshape(B, 4 * N) - bias  # [x, h] @ W, so that xw + bias = z
    rows_c = np.ascontiguousarray(c_prev.T)
    a, c_arr = xw.astype(dtype), rows_c.astype(dtype)
    state, tanh_c = np.empty((B, 2 * N), dtype), np.empty((B, N), dtype)
    recurrent.lstm_cell_forward(a, bias.astype(dtype), c_arr, state, tanh_c)
    acts, c, t, h = unfused_forward(z, c_prev)
    np.testing.assert_allclose(a, acts.transpose(2, 0, 1).reshape(B, 4 * N), rtol=0, atol=tol)
    np.testing.assert_allclose(state, np.concatenate([h.T, c.T], 1), rtol=0, atol=tol)
    np.testing.assert_allclose(tanh_c, t.T, rtol=0, atol=tol)
    grad = rng.normal(size=(B, 2 * N))
    want_d, want_dc = unfused_backward(acts, c_prev, grad[:, :N].T, grad[:, N:].T)
    d, dc_prev = np.empty((B, 4 * N), dtype), np.empty((B, N), dtype)
    recurrent.lstm_cell_backward(a, c_arr, tanh_c, grad.astype(dtype), d, dc_prev)
    np.testing.assert_allclose(d, want_d.transpose(2, 0, 1).reshape(B, 4 * N), rtol=0, atol=tol)
    np.testing.assert_allclose(dc_prev, want_dc.T, rtol=0, atol=tol)


def test_book_cell_in_float16_runs_in_float32() -> None:
    np.random.seed(6)
    cell = engine.LSTMCell(3, 4, 2)
    x = np.random.default_rng(7).normal(size=(2, 3))
    _, (h32, c32) = cell.forward(Tensor(x, dtype=np.float32), cell.init_hidden(2))
    for p in cell.get_parameters():
        p.data = p.data.astype(np.float16)
    xs = Tensor(x, autograd=True, dtype=np.float16)
    out, (h, c) = cell.forward(xs, cell.init_hidden(2))
    assert h.dtype == c.dtype == np.float16
    np.testing.assert_allclose(h.numpy(), h32.numpy(), atol=5e-3)
    np.testing.assert_allclose(c.numpy(), c32.numpy(), atol=5e-3)
    (out.sum() + c.sum()).backward()
    assert xs.grad is not None and xs.grad.dtype == np.float16
    assert cell.xf.weight.grad is not None and cell.xf.weight.grad.dtype == np.float16


def test_sequence_gradients_against_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x, w_ih, b, w_hh = (
        Tensor(rng.normal(size=shape), autograd=True, dtype=np.float64)
        for shape in ((2, 4, 3), (3, 16), (16,), (4, 16))
    )
    assert gradcheck(lambda *ts: LSTMSequenceFn.apply(*ts), [x, w_ih, b, w_hh], atol=1e-6)


def check_float16_layer(layer: Any, x: np.ndarray) -> Tensor:
    """Run ``layer`` in float16 against its float32 output; return the float16 input, whose
    gradient has been taken."""
    want = layer(Tensor(x, dtype=np.float32)).numpy()
    for p in layer.get_parameters():
        p.data = p.data.astype(np.float16)
    xs = Tensor(x, autograd=True, dtype=np.float16)
    out = layer(xs)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.numpy(), want, atol=5e-3)
    out.sum().backward()
    assert xs.grad is not None and xs.grad.dtype == np.float16
    return xs


def test_float16_layer_runs_in_float32() -> None:
    np.random.seed(3)
    layer = LSTM(3, 4)
    x = np.random.default_rng(4).normal(size=(2, 5, 3))
    check_float16_layer(layer, x)
    assert layer.weight_hh.grad is not None and layer.weight_hh.grad.dtype == np.float16
    _, (h, c) = layer.run(x.astype(np.float16)[:, :2])
    assert h.dtype == c.dtype == np.float16


def test_warm_up_runs_every_kernel() -> None:
    recurrent.warm_up()
    assert "engine.kernels.recurrent" in engine.kernels.KERNEL_MODULES


def unfused_gru(xg: Any, hh: Any, b_hh: Any, h_prev: Any) -> tuple[Any, ...]:
    """r and z, the candidate, hn and the new state of one GRU step, as ``GRUCell``."""
    n = h_prev.shape[1]
    gh = hh + b_hh
    r = sigmoid(xg[:, :n] + gh[:, :n])
    z = sigmoid(xg[:, n : 2 * n] + gh[:, n : 2 * n])
    cand = np.tanh(xg[:, 2 * n :] + r * gh[:, 2 * n :])
    return np.concatenate([r, z], 1), cand, gh[:, 2 * n :], cand + z * (h_prev - cand)


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_gru_kernels_match_the_unfused_maths(dtype: Any, tol: float) -> None:
    rng = np.random.default_rng(8)
    xg, hh = rng.normal(scale=3.0, size=(2, B, 3 * N))
    xg[0, :3] = [40.0, -40.0, 1e-9]
    b_hh, h_prev = rng.normal(size=3 * N), rng.normal(size=(B, N))
    want = unfused_gru(xg, hh, b_hh, h_prev)
    ours = (np.empty((B, 2 * N), dtype), *(np.empty((B, N), dtype) for _ in range(3)))
    recurrent.gru_forward(*(v.astype(dtype) for v in (xg, hh, b_hh, h_prev)), *ours)
    for got, expected in zip(ours, want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol)
    gates, cand, hn, _ = want
    d_out, dh = rng.normal(size=(2, B, N))
    r, z, grad = gates[:, :N], gates[:, N:], d_out + dh
    d_cand = grad * (1 - z) * (1 - cand**2)
    d_r = d_cand * hn * r * (1 - r)
    d_z = grad * (h_prev - cand) * z * (1 - z)
    dh_k = dh.astype(dtype)
    dxg, dhg = np.empty((B, 3 * N), dtype), np.empty((B, 3 * N), dtype)
    saved = (v.astype(dtype) for v in (gates, cand, hn, h_prev))
    recurrent.gru_backward(*saved, d_out.astype(dtype), dh_k, dxg, dhg)
    np.testing.assert_allclose(dxg, np.concatenate([d_r, d_z, d_cand], 1), rtol=0, atol=tol)
    np.testing.assert_allclose(dhg, np.concatenate([d_r, d_z, d_cand * r], 1), rtol=0, atol=tol)
    np.testing.assert_allclose(dh_k, grad * z, rtol=0, atol=tol)


def test_gru_gradients_against_finite_differences_and_float16() -> None:
    rng = np.random.default_rng(9)
    shapes = ((2, 4, 3), (3, 12), (12,), (4, 12), (12,))
    inputs = [Tensor(rng.normal(size=s), autograd=True, dtype=np.float64) for s in shapes]
    assert gradcheck(lambda *ts: engine.nn.gru.GRUSequenceFn.apply(*ts), inputs, atol=1e-6)
    np.random.seed(10)
    layer = engine.GRU(3, 4)
    check_float16_layer(layer, rng.normal(size=(2, 5, 3)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gathering_forward_adds_the_table_columns_first(dtype: Any) -> None:
    """``lstm_forward_gather`` is ``lstm_forward`` on ``a + proj[:, ids]`` (the unfused maths)."""
    rng = np.random.default_rng(9)
    z, c_prev = step_inputs(rng)
    proj = rng.normal(size=(4 * N, 6)).astype(dtype)
    tokens = np.array([5, 0, 5], dtype=np.intp)  # a repeated token
    a = z.reshape(4 * N, B).astype(dtype)
    want = run_forward((a + proj[:, tokens]).reshape(4, N, B).astype(np.float64), c_prev, dtype)
    a[3 * N :] *= 2
    outs = [np.empty(N * B, dtype) for _ in range(3)]
    recurrent.lstm_forward_gather(
        a.reshape(-1),
        proj * np.repeat([1, 1, 1, 2], N)[:, None].astype(dtype),
        tokens,
        c_prev.astype(dtype).reshape(-1),
        *outs,
    )
    for got, expected in zip((a.reshape(4, N, B), *outs), want, strict=True):
        np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=0, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scatter_columns_sums_columns_by_token(dtype: Any) -> None:
    rng = np.random.default_rng(10)
    src = rng.normal(size=(4, 9)).astype(dtype)
    tokens = np.array([2, 0, 2, 2, 4, 0, 1, 1, 2], dtype=np.intp)  # token 3 never appears
    want = np.zeros((4, 5), dtype)
    np.add.at(want, (slice(None), tokens), src)
    # the same columns as a stack of three blocks of three
    blocks = np.ascontiguousarray(src.reshape(4, 3, 3).transpose(1, 0, 2))
    got = recurrent.scatter_columns(blocks, tokens.reshape(3, 3), 5)
    assert got.dtype == dtype and got.shape == (4, 5)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert not got[:, 3].any()
