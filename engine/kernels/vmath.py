"""Scalar maths that kernels call, written so that a loop calling them vectorises.

``exp(x)`` on float32 is a polynomial on the reduced argument times a power of two assembled
from its bits (LLVM vectorises this; a call into the C library would stop the loop's
vectorisation): relative error under 3.6e-7 over the normal float32 range against float64,
subnormal results to their own precision. ``tanh`` and ``sigmoid`` build on it (tanh by an odd
polynomial near 0, where ``1 - e^-2|x|`` would cancel). ``erf(x)`` and ``normal_cdf(x)`` on
float32 are odd rational functions (below). On float64 every function is the C library's exact
one. The overloads pick the implementation from the argument's type when a kernel is compiled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, overload

from engine.kernels.compiler import helper

__all__ = ["erf", "exp", "normal_cdf", "sigmoid", "tanh"]

_f32 = np.float32


def _bits_intrinsic(typingctx: Any, bits: Any) -> Any:
    """The float32 whose IEEE bits are the int32 ``bits`` (a register move)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


_float_from_bits = cast(Callable[[Any], Any], intrinsic(_bits_intrinsic))


def _by_dtype(
    exact: Callable[[Any], Any], fast32: Callable[[Any], Any], name: str, doc: str
) -> Callable[[Any], Any]:
    """A function kernels call on a float32 or float64 scalar: ``fast32`` (a vectorising helper)
    for float32, ``exact`` (the C library's maths) otherwise, chosen when a kernel is compiled;
    called from Python it is ``exact``."""

    def generic(x: Any) -> Any:
        return exact(x)

    generic.__name__ = generic.__qualname__ = name
    generic.__doc__ = doc

    @overload(generic, inline="always")
    def _pick(x: Any) -> Any:
        if x == types.float32:

            def float32(x: Any) -> Any:
                return fast32(x)

            return float32

        def other(x: Any) -> Any:
            return exact(x)

        return other

    return generic


_LOG2E, _LN2_HI, _LN2_LO = _f32(1.4426950408889634), _f32(0.693359375), _f32(-2.12194440e-4)
# exp(r) - 1 - r - r^2/2 = r^3 (e1 + e2 r + ...), |r| <= ln2 / 2: a least-squares fit
_E = tuple(_f32(c) for c in (1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3,
                             1.3981999507e-3, 1.9875691500e-4))  # fmt: skip
_EXP_LOW, _EXP_HIGH = _f32(-104.0), _f32(88.72283)  # below: under half the least subnormal


@helper
def _exp32(x: Any) -> Any:
    """exp of a float32: ``2^n exp(r)``, ``x = n ln 2 + r``, the power of two applied as two
    factors so that subnormal results and n = 128 come out right (inf above ln(max float32),
    0 below -104, NaN stays NaN)."""
    y = _EXP_HIGH if x > _EXP_HIGH else x
    y = _EXP_LOW if y < _EXP_LOW else y
    n = np.floor(y * _LOG2E + _f32(0.5))
    r = y - n * _LN2_HI - n * _LN2_LO
    r2 = r * r
    p = (((_E[4] * r + _E[3]) * r + _E[2]) * r + _E[1]) * r + _E[0]
    k = np.int32(n)
    half = k >> np.int32(1)
    e = (p * r2 * r + _f32(0.5) * r2 + r + _f32(1.0)) * _float_from_bits(
        (half + np.int32(127)) << np.int32(23)
    )
    e = e * _float_from_bits((k - half + np.int32(127)) << np.int32(23))
    if x > _EXP_HIGH:
        e = _f32(np.inf)
    if x < _EXP_LOW:
        e = _f32(0.0)
    return e if x == x else x  # NaN stays NaN


exp = _by_dtype(
    math.exp,
    _exp32,
    "exp",
    "``e^x`` (float32: the vectorising form above; float64: the C library's).",
)


# tanh(x) = x + x^3 T(x^2) for |x| < 0.625: a least-squares fit, relative error 5e-8 exactly
_T = tuple(_f32(c) for c in (-0.33333329, 0.13332852, -0.05386522, 0.02106742, -0.00619945))
_TANH_SMALL = _f32(0.625)


@helper
def _tanh32(x: Any) -> Any:
    """tanh of a float32: ``sign(x) (1 - e) / (1 + e)``, ``e = exp(-2|x|)``, and the polynomial
    near 0 (NaN stays NaN)."""
    a = abs(x)
    e = _exp32(_f32(-2.0) * a)
    big = (_f32(1.0) - e) / (_f32(1.0) + e)
    big = big if x >= _f32(0.0) else -big
    u = x * x
    small = x + x * u * ((((_T[4] * u + _T[3]) * u + _T[2]) * u + _T[1]) * u + _T[0])
    t = small if a < _TANH_SMALL else big
    return t if x == x else x


tanh = _by_dtype(
    math.tanh,
    _tanh32,
    "tanh",
    "The hyperbolic tangent (float32: from the vectorising exp; float64: the C library's).",
)


@helper
def _sigmoid32(x: Any) -> Any:
    return _f32(1.0) / (_f32(1.0) + _exp32(-x))


@helper
def _sigmoid64(x: Any) -> Any:
    return 1.0 / (1.0 + math.exp(-x))


sigmoid = _by_dtype(
    _sigmoid64,
    _sigmoid32,
    "sigmoid",
    "The logistic function ``1 / (1 + e^-x)`` (float32 results under the least normal float32, "
    "1.2e-38, come out as 0).",
)


# erf(x) = z P(z^2) / Q(z^2), z = clip(x, -4, 4) (erf rounds to +-1 beyond): a least-squares
# fit (benchmarks/fit_erf.py), error 2.3e-8 in exact arithmetic, 3e-7 in float32 (its rounding).
# Phi(x) - 1/2 = erf(x / sqrt 2) / 2 is the same function of x with rescaled coefficients.
_ERF_P = (1.1283792, 1.9457032e-01, 5.3240705e-02, 3.928272e-03, 2.8571713e-04, 1.980709e-06)
_ERF_Q = (1.0, 5.0576586e-01, 1.1577678e-01, 1.5297086e-02, 1.1967303e-03, 3.7417554e-05)
_ERF_LIMIT = _f32(4.0)
_EP = tuple(_f32(c) for c in _ERF_P)
_EQ = tuple(_f32(c) for c in _ERF_Q)
_CDF_LIMIT = _f32(4.0 * math.sqrt(2.0))
_P = tuple(_f32(c * 0.5 / math.sqrt(2.0) / 2.0**k) for k, c in enumerate(_ERF_P))
_Q = tuple(_f32(c / 2.0**k) for k, c in enumerate(_ERF_Q))
_SQRT_HALF = 1.0 / math.sqrt(2.0)


@helper
def _odd_rational32(x: Any, limit: Any, p: Any, q: Any) -> Any:
    """``z P(z^2) / Q(z^2)``, ``z = clip(x, -limit, limit)``, both of degree 5 (NaN stays NaN)."""
    z = limit if x > limit else x
    z = -limit if z < -limit else z
    u = z * z
    num = ((((p[5] * u + p[4]) * u + p[3]) * u + p[2]) * u + p[1]) * u + p[0]
    den = ((((q[5] * u + q[4]) * u + q[3]) * u + q[2]) * u + q[1]) * u + q[0]
    return z * num / den


@helper
def _erf32(x: Any) -> Any:
    """erf of a float32 by the rational function (+-1 beyond 4)."""
    return _odd_rational32(x, _ERF_LIMIT, _EP, _EQ)


erf = _by_dtype(
    math.erf,
    _erf32,
    "erf",
    "The error function (float32: the rational function; float64: the C library's).",
)


@helper
def _normal_cdf32(x: Any) -> Any:
    """Phi of a float32 by the rational function (0 and 1 beyond 4 sqrt 2)."""
    return _odd_rational32(x, _CDF_LIMIT, _P, _Q) + _f32(0.5)


@helper
def _normal_cdf64(x: Any) -> Any:
    return 0.5 * (1.0 + math.erf(x * _SQRT_HALF))


normal_cdf = _by_dtype(
    _normal_cdf64,
    _normal_cdf32,
    "normal_cdf",
    "The standard normal CDF ``Phi(x)`` (float32: the rational function; float64: erf).",
)
