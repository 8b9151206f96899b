"""Average pooling over NCHW images: ``AvgPool2d`` and ``GlobalAvgPool2d``."""

from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401  (the doctests use it)

from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.nn.conv import Pool2d, _out_size, _windows
from engine.nn.module import StatelessLayer
from engine.tensor import Tensor

__all__ = ["AvgPool2d", "AvgPool2dFn", "GlobalAvgPool2d"]


class AvgPool2dFn(Function):
    """Mean over k×k windows with a stride: (B, C, H, W) -> (B, C, OH, OW)."""

    op_name = "avg_pool2d"
    kernel: int
    stride: int

    def forward(self, x: Any) -> Any:
        """Sum the k×k shifted views, then divide by k²."""
        k, s = self.kernel, self.stride
        oh = _out_size(x.shape[2], k, s, 0, "avg_pool2d")
        ow = _out_size(x.shape[3], k, s, 0, "avg_pool2d")
        windows = _windows(x, k, s, oh, ow)
        out = next(windows)[2].copy()
        for _, _, view in windows:
            out += view
        self.x_shape, self.out_hw = x.shape, (oh, ow)
        return out * (1.0 / (k * k))

    def backward(self, grad: Any) -> tuple[Any]:
        """Spread each output's gradient evenly over its window."""
        dx = get_array_module(grad).zeros(self.x_shape, dtype=grad.dtype)
        share = grad * (1.0 / (self.kernel * self.kernel))
        oh, ow = self.out_hw
        for _, _, view in _windows(dx, self.kernel, self.stride, oh, ow):
            view += share
        return (dx,)


class AvgPool2d(Pool2d):
    """Mean over ``kernel``×``kernel`` windows of NCHW images, as ``torch.nn.AvgPool2d``.

    Parameters
    ----------
    kernel : int
        Window side.
    stride : int or None
        Step between windows; defaults to ``kernel``.

    Examples
    --------
    >>> AvgPool2d(2)(Tensor(np.ones((1, 3, 8, 8)))).shape
    (1, 3, 4, 4)
    """

    fn = AvgPool2dFn


class GlobalAvgPool2d(StatelessLayer):
    """Mean of each channel over the whole image: (N, C, H, W) -> (N, C).

    PyTorch writes it ``nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())``.

    Examples
    --------
    >>> GlobalAvgPool2d()(Tensor(np.ones((2, 3, 4, 4)))).shape
    (2, 3)
    """

    def forward(self, input: Tensor) -> Tensor:
        """Return the per-channel means."""
        if input.ndim != 4:
            raise ShapeError(
                f"GlobalAvgPool2d: expected input (B, C, H, W), got shape {input.shape}"
            )
        return input.mean((2, 3))
