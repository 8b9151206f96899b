"""``BatchNorm2d``: batch normalisation of each channel of NCHW images."""

from __future__ import annotations

import numpy as np  # noqa: F401  (the doctests use it)

from engine.errors import ShapeError
from engine.nn.norm import BatchNorm1d
from engine.tensor import Tensor

__all__ = ["BatchNorm2d"]


class BatchNorm2d(BatchNorm1d):
    """Normalise each channel over the batch and the image, then scale and shift it.

    Parameters
    ----------
    num_features : int
        Number of channels C.
    eps : float
        Added to the variance before the square root.
    momentum : float
        Weight of the current batch in the running statistics.

    Shape
    -----
    (N, C, H, W) -> (N, C, H, W).

    Notes
    -----
    As ``torch.nn.BatchNorm2d``: training mode uses the batch mean and biased variance over
    (N, H, W) and updates ``running_mean`` and ``running_var`` (with the unbiased variance);
    evaluation mode uses the running statistics. ``num_batches_tracked`` counts the updates.
    The parameters, buffers and PyTorch state are :class:`BatchNorm1d`'s.

    Examples
    --------
    >>> bn = BatchNorm2d(3)
    >>> out = bn(Tensor(np.random.randn(4, 3, 5, 5) * 3 + 1))
    >>> bool(np.allclose(out.numpy().mean((0, 2, 3)), 0, atol=1e-5))
    True
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps, momentum)

    def forward(self, input: Tensor) -> Tensor:
        """Return the normalised, scaled and shifted input."""
        if input.ndim != 4 or input.shape[1] != self.n:
            raise ShapeError(
                f"BatchNorm2d({self.n}): expected input (N, {self.n}, H, W), "
                f"got shape {input.shape}"
            )
        weight = self.weight.reshape(1, self.n, 1, 1)
        bias = self.bias.reshape(1, self.n, 1, 1)
        if not self.training:
            std = (self.running_var + self.eps) ** 0.5
            shifted: Tensor = input - self.running_mean.reshape(1, self.n, 1, 1)
            out: Tensor = shifted / std.reshape(1, self.n, 1, 1) * weight + bias
            return out
        axes = (0, 2, 3)
        mean = input.mean(axes, keepdims=True)
        centred = input - mean
        var = (centred * centred).mean(axes, keepdims=True)
        m, count = self.momentum, input.size // self.n
        self.running_mean *= 1 - m
        self.running_mean += m * mean.data.reshape(self.n)
        self.running_var *= 1 - m
        self.running_var += m * var.data.reshape(self.n) * (count / max(count - 1, 1))
        self.num_batches_tracked += 1
        return centred / (var + self.eps).sqrt() * weight + bias
