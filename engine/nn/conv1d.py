"""``Conv1d`` over (N, C, L) sequences, vectorised with im2col as ``Conv2d``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.nn.conv import ConvLayer, _out_size
from engine.ops.gemm import matmul
from engine.tensor import Tensor

__all__ = ["Conv1d", "Conv1dFn"]


class Conv1dFn(Function):
    """1-D cross-correlation: x (B, C, L), w (O, C, k), b (O,) -> (B, O, OL)."""

    op_name = "conv1d"
    stride: int
    padding: int

    def forward(self, x: Any, w: Any, b: Any) -> Any:
        """Gather the windows into columns (C·k, B·OL) and do one matrix product."""
        xp = get_array_module(x)
        batch, chans, length = x.shape
        out_ch, w_chans, k = w.shape
        if chans != w_chans:
            raise ShapeError(f"conv1d: input has {chans} channels, weight expects {w_chans}")
        s, p = self.stride, self.padding
        ol = _out_size(length, k, s, p, "conv1d")
        xpad = xp.pad(x, ((0, 0), (0, 0), (p, p))) if p else x
        cols = xp.empty((chans, k, batch, ol), dtype=x.dtype)
        for i in range(k):
            cols[:, i] = xpad[:, :, i : i + s * ol : s].transpose(1, 0, 2)
        self.cols = cols.reshape(chans * k, batch * ol)
        self.w, self.x_shape, self.pad_shape, self.ol = w, x.shape, xpad.shape, ol
        out = matmul(w.reshape(out_ch, -1), self.cols) + b[:, None]
        return out.reshape(out_ch, batch, ol).transpose(1, 0, 2)

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        """Weight and bias gradients from the columns; input gradient by scattering back."""
        xp = get_array_module(grad)
        out_ch, chans, k = self.w.shape
        batch, ol, s = self.x_shape[0], self.ol, self.stride
        g = grad.transpose(1, 0, 2).reshape(out_ch, -1)
        dw = matmul(g, self.cols.T).reshape(self.w.shape) if self.needs[1] else None
        db = g.sum(axis=1) if self.needs[2] else None
        dx = None
        if self.needs[0]:
            dcols = matmul(self.w.reshape(out_ch, -1).T, g).reshape(chans, k, batch, ol)
            dpad = xp.zeros(self.pad_shape, dtype=grad.dtype)
            for i in range(k):
                dpad[:, :, i : i + s * ol : s] += dcols[:, i].transpose(1, 0, 2)
            p = self.padding
            dx = dpad[:, :, p : p + self.x_shape[2]] if p else dpad
        return dx, dw, db


class Conv1d(ConvLayer):
    """1-D convolution (cross-correlation, as ``torch.nn.Conv1d``) over (N, C, L) sequences.

    Parameters
    ----------
    in_ch, out_ch : int
        Input and output channels.
    kernel : int
        Kernel width.
    stride : int
        Step between windows.
    padding : int
        Zeros added at both ends.

    Shape
    -----
    (N, in_ch, L) -> (N, out_ch, (L + 2 * padding - kernel) // stride + 1).

    Notes
    -----
    ``weight`` (out_ch, in_ch, kernel) and ``bias`` (out_ch,) are laid out and initialised as
    PyTorch's: uniform in ``[-1/sqrt(in_ch * kernel), 1/sqrt(in_ch * kernel)]``.

    Examples
    --------
    >>> Conv1d(2, 4, 3, padding=1)(Tensor(np.zeros((5, 2, 10)))).shape
    (5, 4, 10)
    """

    def reset_parameters(self) -> None:
        """Uniform in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, as PyTorch."""
        bound = 1.0 / math.sqrt(self.in_ch * self.kernel)
        shape = (self.out_ch, self.in_ch, self.kernel)
        self._set_parameter("weight", np.random.uniform(-bound, bound, shape))
        self._set_parameter("bias", np.random.uniform(-bound, bound, self.out_ch))

    def forward(self, input: Tensor) -> Tensor:
        """Return the convolution of ``input`` with ``weight`` plus ``bias``."""
        if input.ndim != 3 or input.shape[1] != self.in_ch:
            raise ShapeError(
                f"Conv1d: expected input (N, {self.in_ch}, L), got shape {input.shape}"
            )
        return Conv1dFn.apply(
            input, self.weight, self.bias, stride=self.stride, padding=self.padding
        )
