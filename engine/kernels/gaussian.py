"""Kernels of the Gaussian functions: erf, the normal CDF Phi, and GELU ``x Phi(x)`` with its
gradient ``g (Phi(x) + x phi(x))``, each in one pass."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.kernels.compiler import kernel
from engine.kernels.vmath import erf, exp, normal_cdf

__all__ = ["erf_into", "gelu_backward", "gelu_forward", "normal_cdf_into", "warm_up"]

_LOG_INV_SQRT_2PI = -0.5 * math.log(2.0 * math.pi)


@kernel
def erf_into(x: Any, out: Any) -> None:
    """``out[i] = erf(x[i])`` over flat contiguous arrays."""
    for i in range(x.size):
        out[i] = erf(x[i])


@kernel
def normal_cdf_into(x: Any, cdf: Any) -> None:
    """``cdf[i] = Phi(x[i])`` over flat contiguous arrays."""
    for i in range(x.size):
        cdf[i] = normal_cdf(x[i])


@kernel
def gelu_forward(x: Any, cdf: Any, out: Any) -> None:
    """``cdf[i] = Phi(x[i])`` (kept for the gradient) and ``out[i] = x[i] cdf[i]``."""
    for i in range(x.size):
        c = normal_cdf(x[i])
        cdf[i] = c
        out[i] = x[i] * c


@kernel
def gelu_backward(x: Any, cdf: Any, grad: Any, out: Any) -> None:
    """``out[i] = grad[i] (cdf[i] + x[i] phi(x[i]))``, phi the standard normal density."""
    half = x.dtype.type(-0.5)
    shift = x.dtype.type(_LOG_INV_SQRT_2PI)
    for i in range(x.size):
        v = x[i]
        out[i] = grad[i] * (cdf[i] + v * exp(half * v * v + shift))


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        x = np.zeros(4, dtype)
        cdf, out = np.empty_like(x), np.empty_like(x)
        erf_into(x, cdf)
        normal_cdf_into(x, cdf)
        gelu_forward(x, cdf, out)
        gelu_backward(x, cdf, x, out)
