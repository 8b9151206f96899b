"""The optimizers' CPU kernels (``engine/kernels/optimizers.py``) against the unfused maths:
float64 to rounding, float32 closely, float16 parameters (updated in float32) and parameters
that are not contiguous (updated through a copy written back)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine import SGD, Adam, AdamW, Tensor


def reference(kind: str, p: np.ndarray, grads: list[np.ndarray], **kw: Any) -> np.ndarray:
    """The update rules as written in PyTorch's documentation, in plain NumPy (float64)."""
    p = p.astype(np.float64).copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    lr, wd = kw["alpha"], kw.get("weight_decay", 0.0)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if kind == "sgd":
            g = g + wd * p
            if kw.get("momentum"):
                v = kw["momentum"] * v + g if t > 1 else g.copy()
                g = v
            p -= lr * g
            continue
        b1, b2, eps = 0.9, 0.999, 1e-8
        if kind == "adamw":
            p *= 1.0 - lr * wd
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p -= lr / (1 - b1**t) * m / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


CASES = [
    ("sgd", SGD, {"alpha": 0.1}),
    ("sgd", SGD, {"alpha": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("adam", Adam, {"alpha": 0.01, "weight_decay": 0.1}),
    ("adamw", AdamW, {"alpha": 0.01, "weight_decay": 0.1}),
]


def train(cls: Any, kw: dict[str, Any], p0: np.ndarray, grads: list[np.ndarray], dtype: Any) -> Any:
    w = Tensor(p0, autograd=True, dtype=dtype)
    opt = cls([w], **kw)
    for g in grads:
        w.grad = Tensor(g, dtype=dtype)
        opt.step(zero=False)
    return w


@pytest.mark.parametrize(("kind", "cls", "kw"), CASES)
def test_kernels_follow_the_update_rules(kind: str, cls: Any, kw: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((33, 17))
    grads = [rng.standard_normal(p0.shape) for _ in range(5)]
    expected = reference(kind, p0, grads, **kw)
    w64 = train(cls, kw, p0, grads, np.float64)
    np.testing.assert_allclose(w64.data, expected, rtol=1e-13, atol=1e-14)
    w32 = train(cls, kw, p0, grads, np.float32)
    assert w32.data.dtype == np.float32
    np.testing.assert_allclose(w32.data, expected, rtol=1e-5, atol=1e-6)
    w16 = train(cls, kw, p0, grads, np.float16)
    assert w16.data.dtype == np.float16
    np.testing.assert_allclose(w16.data, expected, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize(("kind", "cls", "kw"), CASES)
def test_a_parameter_that_is_not_contiguous_is_updated_in_place(
    kind: str, cls: Any, kw: dict[str, Any]
) -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((12, 10))
    grads = [rng.standard_normal((10, 12)) for _ in range(3)]
    w = Tensor(base, autograd=True, dtype=np.float64)
    w.data = w.data.T  # a transposed view: the layer keeps this very array object
    held = w.data
    opt = cls([w], **kw)
    for g in grads:
        w.grad = Tensor(g, dtype=np.float64)
        opt.step(zero=False)
    assert w.data is held
    np.testing.assert_allclose(held, reference(kind, base.T, grads, **kw), rtol=1e-13, atol=1e-14)
