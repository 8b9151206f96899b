"""The error function and the normal CDF, fast in float32.

SciPy's ``erf`` evaluates each element with a scalar double-precision routine: about 11-20 ns
an element here, most of a transformer step's GELU. For float32 NumPy arrays the engine uses an
odd rational function instead, ``z P(z^2) / Q(z^2)`` with z clamped to ``[-4, 4]`` (erf rounds
to +-1 beyond), evaluated with a few whole-array in-place passes: largest error 3e-7 against
the exact erf (its float32 rounding error; PyTorch's float32 erf is within 3e-8, its GELU output
within 4e-7 of the exact one). The coefficients come from a least-squares fit
(``benchmarks/fit_erf.py``, error 2.3e-8 in exact arithmetic). Float64 and CuPy arrays keep
SciPy's and cupyx's exact erf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.backend import get_array_module

__all__ = ["erf", "erf_float32", "normal_cdf"]

_LIMIT = 4.0
_P = (1.1283792, 1.9457032e-01, 5.3240705e-02, 3.928272e-03, 2.8571713e-04, 1.980709e-06)
_Q = (1.0, 5.0576586e-01, 1.1577678e-01, 1.5297086e-02, 1.1967303e-03, 3.7417554e-05)


def _f32(values: tuple[float, ...]) -> tuple[np.float32, ...]:
    return tuple(np.float32(v) for v in values)


_ERF = (np.float32(_LIMIT), _f32(_P), _f32(_Q))
# Phi(x) - 1/2 = erf(x / sqrt 2) / 2: the same rational function in x, coefficients rescaled
_CDF = (
    np.float32(_LIMIT * math.sqrt(2.0)),
    _f32(tuple(c * 0.5 / math.sqrt(2.0) / 2.0**k for k, c in enumerate(_P))),
    _f32(tuple(c / 2.0**k for k, c in enumerate(_Q))),
)


def _odd_rational(
    x: np.ndarray, form: tuple[Any, ...], out: np.ndarray | None = None
) -> np.ndarray:
    """``z P(z^2) / Q(z^2)`` with ``z = clip(x, -limit, limit)``, in x's float32 (into ``out``
    when given)."""
    limit, p, q = form
    z: np.ndarray = np.clip(x, -limit, limit)
    u = z * z
    num: np.ndarray = np.multiply(u, p[-1], out=out)
    den: np.ndarray = u * q[-1]
    for c in p[-2:0:-1]:
        num += c
        num *= u
    for c in q[-2:0:-1]:
        den += c
        den *= u
    num += p[0]
    den += q[0]
    num *= z
    num /= den
    return num


def erf_float32(x: np.ndarray) -> np.ndarray:
    """The error function of a float32 NumPy array by the rational approximation (see the
    module's notes)."""
    return _odd_rational(x, _ERF)


def _fast(x: Any) -> bool:
    return type(x) is np.ndarray and x.dtype == np.float32


def erf(x: Any) -> Any:
    """The error function, element-wise, on NumPy or CuPy arrays (float32 NumPy arrays by the
    rational approximation, the rest by SciPy's or cupyx's erf)."""
    if _fast(x):
        return erf_float32(x)
    if get_array_module(x) is np:
        from scipy import special  # type: ignore[import-untyped]  # scikit-learn needs SciPy
    else:
        from cupyx.scipy import special
    return special.erf(x)


def normal_cdf(x: Any, out: Any = None) -> Any:
    """The standard normal CDF ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``, element-wise (written
    into ``out`` when given, for float32 NumPy arrays only).

    Examples
    --------
    >>> float(normal_cdf(np.float32([0.0]))[0])
    0.5
    """
    if _fast(x):
        cdf = _odd_rational(x, _CDF, out)
        cdf += np.float32(0.5)
        return cdf
    if out is not None:
        raise TypeError("normal_cdf: out= is for float32 NumPy arrays only")
    return 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))
