"""``BatchNorm2d``: batch normalisation of each channel of NCHW images."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine import backend
from engine.errors import ShapeError
from engine.nn.module import Layer
from engine.nn.torch_state import as_numpy, checked, copy_into
from engine.tensor import Tensor

__all__ = ["BatchNorm2d"]


class BatchNorm2d(Layer):
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

    Examples
    --------
    >>> bn = BatchNorm2d(3)
    >>> out = bn(Tensor(np.random.randn(4, 3, 5, 5) * 3 + 1))
    >>> bool(np.allclose(out.numpy().mean((0, 2, 3)), 0, atol=1e-5))
    True
    """

    weight: Tensor
    bias: Tensor
    running_mean: Any
    running_var: Any

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.n, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        dt = backend.get_default_dtype()
        self.register_buffer("running_mean", np.zeros(self.n, dtype=dt))
        self.register_buffer("running_var", np.ones(self.n, dtype=dt))
        self.num_batches_tracked = 0
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale one, shift zero; running mean zero and variance one."""
        self._set_parameter("weight", np.ones(self.n))
        self._set_parameter("bias", np.zeros(self.n))
        self.running_mean[...] = 0
        self.running_var[...] = 1
        self.num_batches_tracked = 0

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

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """``nn.BatchNorm2d``'s keys: weight, bias, running_mean, running_var,
        num_batches_tracked (an int64 scalar)."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in ("weight", "bias", "running_mean", "running_var"):
            state[name] = as_numpy(getattr(self, name))
        state["num_batches_tracked"] = np.array(self.num_batches_tracked, dtype=np.int64)
        return state

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load ``nn.BatchNorm2d`` state; a missing, unexpected or misshapen key raises."""
        shape = (self.n,)
        shapes = {"weight": shape, "bias": shape, "running_mean": shape, "running_var": shape}
        arrays = checked("BatchNorm2d", state_dict, {**shapes, "num_batches_tracked": ()})
        copy_into(self.weight, arrays["weight"])
        copy_into(self.bias, arrays["bias"])
        for name in ("running_mean", "running_var"):
            buf = getattr(self, name)
            buf[...] = backend.to_device(arrays[name].astype(buf.dtype), backend.device_of(buf))
        self.num_batches_tracked = int(arrays["num_batches_tracked"])

    def extra_repr(self) -> str:
        return f"{self.n}, eps={self.eps}, momentum={self.momentum}"
