"""Normalisation layers: ``BatchNorm1d`` and ``LayerNorm`` (composed of differentiable ops)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from engine import backend
from engine.errors import ShapeError
from engine.nn.module import Layer
from engine.ops.layer_norm import LayerNormFn
from engine.tensor import Tensor

__all__ = ["BatchNorm1d", "LayerNorm"]


class BatchNorm1d(Layer):
    """Normalise each feature over the batch, then scale by ``weight`` and shift by ``bias``.

    Parameters
    ----------
    n : int
        Number of features.
    eps : float
        Added to the variance before the square root.
    momentum : float
        Weight of the current batch in the running statistics.

    Shape
    -----
    (N, n) -> (N, n).

    Notes
    -----
    Training mode uses the batch mean and (biased) variance and updates the buffers
    ``running_mean`` and ``running_var`` (with the unbiased variance, as PyTorch); evaluation
    mode uses the running statistics.

    Examples
    --------
    >>> bn = BatchNorm1d(3)
    >>> out = bn(Tensor(np.random.randn(8, 3) * 5 + 2))
    >>> bool(np.allclose(out.numpy().mean(0), 0, atol=1e-5))
    True
    """

    weight: Tensor
    bias: Tensor
    running_mean: Any
    running_var: Any

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.n, self.eps, self.momentum = int(n), float(eps), float(momentum)
        dt = backend.get_default_dtype()
        self.register_buffer("running_mean", np.zeros(self.n, dtype=dt))
        self.register_buffer("running_var", np.ones(self.n, dtype=dt))
        self.num_batches_tracked = 0  # training batches seen (PyTorch keeps the count too)
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
        if input.ndim != 2 or input.shape[1] != self.n:
            raise ShapeError(
                f"BatchNorm1d({self.n}): expected input (N, {self.n}), got shape {input.shape}"
            )
        if not self.training:
            scale = self.weight / np.sqrt(self.running_var + self.eps)
            normalised: Tensor = (input - self.running_mean) * scale
            return normalised + self.bias
        mean = input.mean(0)
        centred = input - mean
        var = (centred * centred).mean(0)
        m, count = self.momentum, input.shape[0]
        unbiased = var.data * (count / max(count - 1, 1))
        self.running_mean *= 1 - m
        self.running_mean += m * mean.data
        self.running_var *= 1 - m
        self.running_var += m * unbiased
        self.num_batches_tracked += 1
        return centred / (var + self.eps).sqrt() * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"{self.n}, eps={self.eps}, momentum={self.momentum}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.BatchNorm1d(n, eps, momentum)``: ``weight``, ``bias``,
        ``running_mean``, ``running_var`` and ``num_batches_tracked`` (an int64 scalar)."""
        return OrderedDict(
            weight=self.weight.numpy(),
            bias=self.bias.numpy(),
            running_mean=backend.to_numpy(self.running_mean).copy(),
            running_var=backend.to_numpy(self.running_var).copy(),
            num_batches_tracked=np.array(self.num_batches_tracked, dtype=np.int64),
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"])
        self._set_parameter("bias", arrays["bias"])
        for name in ("running_mean", "running_var"):
            buffer = getattr(self, name)
            value = np.asarray(arrays[name], dtype=buffer.dtype)
            buffer[...] = backend.to_device(value, backend.device_of(buffer))
        self.num_batches_tracked = int(arrays["num_batches_tracked"])


class LayerNorm(Layer):
    """Normalise each sample over its last axis, then scale and shift.

    Parameters
    ----------
    n : int
        Size of the last axis.
    eps : float
        Added to the variance before the square root.

    Shape
    -----
    (..., n) -> (..., n).
    """

    weight: Tensor
    bias: Tensor

    def __init__(self, n: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.n, self.eps = int(n), float(eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale one, shift zero."""
        self._set_parameter("weight", np.ones(self.n))
        self._set_parameter("bias", np.zeros(self.n))

    def forward(self, input: Tensor) -> Tensor:
        """Return the normalised, scaled and shifted input."""
        if input.shape[-1] != self.n:
            raise ShapeError(
                f"LayerNorm({self.n}): last axis of input shape {input.shape} is not {self.n}"
            )
        return LayerNormFn.apply(input, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.n}, eps={self.eps}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.LayerNorm(n, eps)``: ``weight`` and ``bias``."""
        return OrderedDict(weight=self.weight.numpy(), bias=self.bias.numpy())

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"])
        self._set_parameter("bias", arrays["bias"])
