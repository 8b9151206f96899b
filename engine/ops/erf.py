"""The error function and the normal CDF on NumPy and CuPy arrays.

NumPy arrays go to the compiled kernels of :mod:`engine.kernels.gaussian`: float32 by an odd
rational function ``z P(z^2) / Q(z^2)`` (largest error 3e-7, float32's rounding; PyTorch's float32
erf is within 3e-8, its GELU within 4e-7 of the exact one), float64 by the C library's exact erf;
integers are computed in float64, float16 in float32. CuPy arrays use cupyx's erf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine import kernels
from engine.ops.kernel_call import elementwise

__all__ = ["erf", "normal_cdf"]


def _on_cpu(x: Any) -> np.ndarray | None:
    """``x`` as a NumPy float array when it is a NumPy array or scalar, else None (CuPy)."""
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        a = np.asarray(x)
        return a if a.dtype.kind == "f" else a.astype(np.float64)
    return None


def erf(x: Any) -> Any:
    """The error function, element-wise, on NumPy or CuPy arrays."""
    a = _on_cpu(x)
    if a is not None:
        return elementwise(kernels.gaussian.erf_into, a)[0]
    from cupyx.scipy import special

    return special.erf(x)


def normal_cdf(x: Any) -> Any:
    """The standard normal CDF ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``, element-wise.

    Examples
    --------
    >>> float(normal_cdf(np.float32([0.0]))[0])
    0.5
    """
    a = _on_cpu(x)
    if a is not None:
        return elementwise(kernels.gaussian.normal_cdf_into, a)[0]
    return 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
