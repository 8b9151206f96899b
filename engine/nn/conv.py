"""Convolution and max pooling over NCHW images, vectorised with im2col."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.nn.module import Layer, StatelessLayer
from engine.ops.gemm import matmul
from engine.tensor import Tensor

__all__ = ["Conv2d", "MaxPool2d"]


def _out_size(size: int, kernel: int, stride: int, padding: int, what: str) -> int:
    n = (size + 2 * padding - kernel) // stride + 1
    if n < 1:
        raise ShapeError(
            f"{what}: input size {size} (padding {padding}) is smaller than kernel {kernel}"
        )
    return n


def _windows(xp_: Any, k: int, stride: int, oh: int, ow: int) -> Any:
    """Yield ``(i, j, view)``: the input pixels seen by kernel offset (i, j) at every output."""
    for i in range(k):
        for j in range(k):
            yield i, j, xp_[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]


class Conv2dFn(Function):
    """2-D cross-correlation: x (B, C, H, W), w (O, C, k, k), b (O,) -> (B, O, OH, OW)."""

    op_name = "conv2d"
    stride: int
    padding: int

    def forward(self, x: Any, w: Any, b: Any) -> Any:
        """Gather the windows into columns (C·k·k, B·OH·OW) and do one matrix product."""
        xp = get_array_module(x)
        batch, chans, height, width = x.shape
        out_ch, w_chans, k, _ = w.shape
        if chans != w_chans:
            raise ShapeError(f"conv2d: input has {chans} channels, weight expects {w_chans}")
        s, p = self.stride, self.padding
        oh = _out_size(height, k, s, p, "conv2d")
        ow = _out_size(width, k, s, p, "conv2d")
        xpad = x
        if p:  # zeros and one copy (xp.pad's general machinery cost more than the copy)
            xpad = xp.zeros((batch, chans, height + 2 * p, width + 2 * p), dtype=x.dtype)
            xpad[:, :, p : p + height, p : p + width] = x
        cols = xp.empty((chans, k, k, batch, oh, ow), dtype=x.dtype)
        for i, j, view in _windows(xpad, k, s, oh, ow):
            cols[:, i, j] = view.transpose(1, 0, 2, 3)
        self.cols = cols.reshape(chans * k * k, batch * oh * ow)
        self.w, self.x_shape, self.pad_shape, self.out_hw = w, x.shape, xpad.shape, (oh, ow)
        out = matmul(w.reshape(out_ch, -1), self.cols) + b[:, None]
        return out.reshape(out_ch, batch, oh, ow).transpose(1, 0, 2, 3)

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        """Weight and bias gradients from the columns; input gradient by scattering back."""
        xp = get_array_module(grad)
        out_ch, chans, k, _ = self.w.shape
        batch = self.x_shape[0]
        oh, ow = self.out_hw
        g = grad.transpose(1, 0, 2, 3).reshape(out_ch, -1)
        dw = matmul(g, self.cols.T).reshape(self.w.shape) if self.needs[1] else None
        db = g.sum(axis=1) if self.needs[2] else None
        dx = None
        if self.needs[0]:
            dcols = matmul(self.w.reshape(out_ch, -1).T, g).reshape(chans, k, k, batch, oh, ow)
            dpad = xp.zeros(self.pad_shape, dtype=grad.dtype)
            for i, j, view in _windows(dpad, k, self.stride, oh, ow):
                view += dcols[:, i, j].transpose(1, 0, 2, 3)
            p = self.padding
            dx = dpad[:, :, p : p + self.x_shape[2], p : p + self.x_shape[3]] if p else dpad
        return dx, dw, db


class MaxPool2dFn(Function):
    """Max over k×k windows with a stride: (B, C, H, W) -> (B, C, OH, OW)."""

    op_name = "max_pool2d"
    fresh_grads = True
    kernel: int
    stride: int

    def forward(self, x: Any) -> Any:
        """Running element-wise maximum over the k×k shifted views.

        Alongside, ``argmax`` records which view (0 .. k·k - 1, row by row) holds each window's
        first maximum: a view that is strictly greater than the running maximum takes over, and
        the views come in increasing order, so an element-wise maximum keeps the last one.
        """
        xp = get_array_module(x)
        k, s = self.kernel, self.stride
        oh = _out_size(x.shape[2], k, s, 0, "max_pool2d")
        ow = _out_size(x.shape[3], k, s, 0, "max_pool2d")
        windows = _windows(x, k, s, oh, ow)
        out = next(windows)[2].copy()
        argmax = xp.zeros(out.shape, dtype=xp.uint8 if k * k < 256 else xp.int32)
        better = xp.empty(out.shape, dtype=bool)
        taken = xp.empty_like(argmax)
        for n, (_, _, view) in enumerate(windows, 1):
            xp.greater(view, out, out=better)
            xp.multiply(better, argmax.dtype.type(n), out=taken)
            xp.maximum(argmax, taken, out=argmax)
            xp.maximum(out, view, out=out)
        self.x_shape, self.argmax, self.out_hw = x.shape, argmax, (oh, ow)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        """Send each output's gradient to the first input element that equals its maximum."""
        xp = get_array_module(grad)
        dx = xp.zeros(self.x_shape, dtype=grad.dtype)
        oh, ow = self.out_hw
        disjoint = self.stride >= self.kernel  # each input element is in one window at most
        argmax = self.argmax
        for n, (_, _, dx_view) in enumerate(_windows(dx, self.kernel, self.stride, oh, ow)):
            if disjoint:
                xp.multiply(grad, argmax == n, out=dx_view)
            else:
                dx_view += grad * (argmax == n)
        return (dx,)


class ConvLayer(Layer):
    """Shared part of ``Conv1d`` and ``Conv2d``: arguments, ``weight`` and ``bias``, PyTorch state.

    Subclasses define ``reset_parameters`` (the initialisation) and ``forward``.
    """

    weight: Tensor
    bias: Tensor

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0
    ) -> None:
        super().__init__()
        self.in_ch, self.out_ch, self.kernel = int(in_ch), int(out_ch), int(kernel)
        self.stride, self.padding = int(stride), int(padding)
        if min(self.in_ch, self.out_ch, self.kernel, self.stride) < 1 or self.padding < 0:
            raise ValueError(f"{type(self).__name__}: invalid arguments ({self.extra_repr()})")
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"{self.in_ch}, {self.out_ch}, kernel={self.kernel}, stride={self.stride}, "
            f"padding={self.padding}"
        )

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of the matching ``torch.nn.Conv*d``: ``weight`` (out_ch, in_ch, kernel...)
        and ``bias`` (out_ch,), the same arrays."""
        return OrderedDict(weight=self.weight.numpy(), bias=self.bias.numpy())

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"])
        self._set_parameter("bias", arrays["bias"])


class Conv2d(ConvLayer):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW images.

    Parameters
    ----------
    in_ch, out_ch : int
        Input and output channels.
    kernel : int
        Side of the square kernel.
    stride : int
        Step between windows.
    padding : int
        Zeros added on every side.

    Shape
    -----
    Input (B, in_ch, H, W); output (B, out_ch, OH, OW) with
    ``OH = (H + 2 * padding - kernel) // stride + 1`` (likewise OW).

    Notes
    -----
    ``weight`` (out_ch, in_ch, kernel, kernel) is He-initialised,
    ``randn * sqrt(2 / (in_ch * kernel**2))``; ``bias`` (out_ch,) starts at zero. The forward
    gathers the k×k shifted views into one column matrix (im2col) and does a single matrix
    product; the backward scatters the column gradient back with k×k strided additions.

    Examples
    --------
    >>> conv = Conv2d(1, 4, 3, padding=1)
    >>> conv(Tensor(np.zeros((2, 1, 8, 8)))).shape
    (2, 4, 8, 8)
    """

    weight: Tensor
    bias: Tensor

    def reset_parameters(self) -> None:
        """He initialisation ``randn * sqrt(2 / (in_ch * kernel**2))``, zero bias."""
        fan_in = self.in_ch * self.kernel**2
        shape = (self.out_ch, self.in_ch, self.kernel, self.kernel)
        self._set_parameter("weight", np.random.randn(*shape) * math.sqrt(2.0 / fan_in))
        self._set_parameter("bias", np.zeros(self.out_ch))

    def forward(self, input: Tensor) -> Tensor:
        """Return the convolution of ``input`` with ``weight`` plus ``bias``."""
        if input.ndim != 4:
            raise ShapeError(f"Conv2d: expected input (B, C, H, W), got shape {input.shape}")
        return Conv2dFn.apply(
            input, self.weight, self.bias, stride=self.stride, padding=self.padding
        )


class Pool2d(StatelessLayer):
    """Shared part of the window pools: ``kernel``, ``stride`` (default ``kernel``), the check.

    Subclasses set ``fn``, the :class:`Function` applied to each (B, C, H, W) input.
    """

    fn: type[Function]

    def __init__(self, kernel: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel = int(kernel)
        self.stride = int(stride) if stride is not None else self.kernel
        if self.kernel < 1 or self.stride < 1:
            raise ValueError(f"{type(self).__name__}: invalid arguments ({self.extra_repr()})")

    def forward(self, input: Tensor) -> Tensor:
        """Return the pooled windows."""
        if input.ndim != 4:
            raise ShapeError(
                f"{type(self).__name__}: expected input (B, C, H, W), got shape {input.shape}"
            )
        return self.fn.apply(input, kernel=self.kernel, stride=self.stride)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}"


class MaxPool2d(Pool2d):
    """Maximum over ``kernel``×``kernel`` windows of NCHW images.

    Parameters
    ----------
    kernel : int
        Window side.
    stride : int or None
        Step between windows; defaults to ``kernel`` (non-overlapping).

    Shape
    -----
    (B, C, H, W) -> (B, C, (H - kernel) // stride + 1, (W - kernel) // stride + 1).
    The gradient goes to the first maximum of each window.

    Examples
    --------
    >>> MaxPool2d(2)(Tensor(np.zeros((1, 3, 8, 8)))).shape
    (1, 3, 4, 4)
    """

    fn = MaxPool2dFn
