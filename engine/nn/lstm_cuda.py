"""The LSTM cell's element-wise work as one CuPy kernel per step each way.

On a GPU every array operation is a kernel launch costing several microseconds of host time,
so the twenty-odd NumPy-style passes of a cell step (see ``sequence._lstm_cell``) cost far more
than their arithmetic. These kernels do a step's gate activations, cell and hidden state (and,
backward, the pre-activation gradients) in one pass over the (H, B) elements. They compute the
same formulas as the NumPy passes and take the same gate-major (4H, B) blocks, f, i, o, g.
"""

from __future__ import annotations

from typing import Any

from engine.backend import fused_kernel, has_fused_kernels

__all__ = ["cell_backward", "cell_forward"]

# ``a`` arrives with the f, i, o rows holding z / 2: sigmoid(z) = (1 + tanh(z / 2)) / 2.
_FORWARD = """
    const T f = (tanh(a[i]) + (T)1) * (T)0.5;
    const T in = (tanh(a[i + nb]) + (T)1) * (T)0.5;
    const T o = (tanh(a[i + 2 * nb]) + (T)1) * (T)0.5;
    const T g = tanh(a[i + 3 * nb]);
    a[i] = f; a[i + nb] = in; a[i + 2 * nb] = o; a[i + 3 * nb] = g;
    const T cell = f * c_prev + in * g;
    const T tc = tanh(cell);
    c = cell; tanh_c = tc; h = o * tc;
"""

_BACKWARD = """
    const T f = a[i], in = a[i + nb], o = a[i + 2 * nb], g = a[i + 3 * nb];
    const T tc = tanh_c;
    const T dcell = dc + dh * o * ((T)1 - tc * tc);
    d[i] = dcell * c_prev * f * ((T)1 - f);
    d[i + nb] = dcell * g * in * ((T)1 - in);
    d[i + 2 * nb] = dh * tc * o * ((T)1 - o);
    d[i + 3 * nb] = dcell * in * ((T)1 - g * g);
    dc = dcell * f;
"""


def cell_forward(cp: Any, a: Any, c_prev: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """As ``sequence._lstm_cell`` on CuPy arrays: ``a`` (4H, B) C-contiguous, the rest (H, B)."""
    if not has_fused_kernels(a):
        _widened(cp, cell_forward, (a, c_prev, c, tanh_c, h), written=(0, 2, 3, 4))
        return
    kernel = fused_kernel(
        "nodegrad_lstm_fwd", "T c_prev, int64 nb", "raw T a, T c, T tanh_c, T h", _FORWARD
    )
    kernel(c_prev, c_prev.size, a, c, tanh_c, h)


def cell_backward(cp: Any, a: Any, c_prev: Any, tanh_c: Any, dh: Any, dc: Any, d: Any) -> None:
    """As ``sequence._lstm_cell_backward`` on CuPy arrays: ``a`` and ``d`` (4H, B)
    C-contiguous, the rest (H, B); ``dc`` is updated in place."""
    if not has_fused_kernels(a):
        _widened(cp, cell_backward, (a, c_prev, tanh_c, dh, dc, d), written=(4, 5))
        return
    kernel = fused_kernel(
        "nodegrad_lstm_bwd",
        "raw T a, T c_prev, T tanh_c, T dh, int64 nb",
        "T dc, raw T d",
        _BACKWARD,
    )
    kernel(a, c_prev, tanh_c, dh, c_prev.size, dc, d)


def _widened(cp: Any, fn: Any, arrays: tuple[Any, ...], written: tuple[int, ...]) -> None:
    """Run ``fn`` on float32 copies of ``arrays`` (float16 has no fused kernel here) and copy
    the arrays it writes back."""
    wide = [x.astype(cp.float32) for x in arrays]
    fn(cp, *wide)
    for k in written:
        arrays[k][...] = wide[k]
