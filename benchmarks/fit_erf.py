"""Derive the coefficients of the float32 error function (``engine/kernels/vmath.py``).

``erf(z) ~ z P(z^2) / Q(z^2)`` on ``[-4, 4]`` (beyond it erf rounds to +-1 in float32), with P
and Q of degree 5 (``Q(0) = 1``, ``P(0) = 2 / sqrt(pi)``), fitted by iteratively reweighted
linear least squares (Loeb's linearisation, then Lawson's weights towards the minimax error) against
SciPy's float64 erf. Run ``.venv/bin/python benchmarks/fit_erf.py``: it prints both
coefficient lists and the largest error of the fit in float64 and of its float32 evaluation.
"""

from __future__ import annotations

import numpy as np
from scipy import special  # type: ignore[import-untyped]

LIMIT, DEG_P, DEG_Q, POINTS, ROUNDS = 4.0, 5, 5, 4000, 60


def fit() -> tuple[float, np.ndarray, np.ndarray]:
    """Return (largest float64 error, P's coefficients, Q's coefficients), lowest power first."""
    z = (1 - np.cos(np.linspace(0, np.pi, POINTS))) / 2 * LIMIT  # dense near both ends
    f, u = special.erf(z), z * z
    p0 = 2.0 / np.sqrt(np.pi)  # erf's slope at 0, kept exact
    powers_p = u[:, None] ** np.arange(1, DEG_P + 1)
    powers_q = u[:, None] ** np.arange(1, DEG_Q + 1)
    design = np.hstack([z[:, None] * powers_p, -f[:, None] * powers_q])
    target = f - p0 * z
    q_prev, lawson = np.ones(POINTS), np.ones(POINTS)
    best = (np.inf, np.zeros(0), np.zeros(0))
    for round_ in range(ROUNDS):
        w = lawson / q_prev
        coef = np.linalg.lstsq(design * w[:, None], target * w, rcond=None)[0]
        p = np.concatenate([[p0], coef[:DEG_P]])
        q = np.concatenate([[1.0], coef[DEG_P:]])
        q_prev = np.polynomial.polynomial.polyval(u, q)
        err = z * np.polynomial.polynomial.polyval(u, p) / q_prev - f
        if np.abs(err).max() < best[0]:
            best = (float(np.abs(err).max()), p.copy(), q.copy())
        if round_ > 10:
            lawson = lawson * np.sqrt(np.abs(err) + 1e-30)
            lawson /= lawson.mean()
    return best


def main() -> None:
    """Fit, then check the float32 evaluation the engine does."""
    err64, p, q = fit()
    for name, coef in (("P", p), ("Q", q)):
        print(name, "=", ", ".join(np.format_float_scientific(np.float32(c)) for c in coef))
    print(f"largest error of the fit (float64): {err64:.3g}")
    from engine.ops.erf import erf

    x = np.linspace(-6, 6, 2_000_001, dtype=np.float32)
    err32 = np.abs(erf(x) - special.erf(x.astype(np.float64))).max()
    print(f"largest error of engine.ops.erf.erf (float32): {err32:.3g}")


if __name__ == "__main__":
    main()
