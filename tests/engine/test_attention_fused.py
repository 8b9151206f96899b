"""The one-primitive attention (``engine/ops/attention.py``): finite differences in float64 and
the same values and gradients as the attention composed of ops (slices, permutes, products,
the masked softmax, dropout)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import engine
from engine import Tensor, gradcheck
from engine.ops.attention import Attention, causal_mask

HEADS = 2


@pytest.fixture(autouse=True)
def float64() -> Any:
    engine.set_default_dtype(np.float64)
    yield
    engine.set_default_dtype(np.float32)


def composed(q: Tensor, k: Tensor, v: Tensor, causal: bool, dropout: float = 0.0) -> Tensor:
    """The attention built from ops, as MultiHeadAttention computed it before the fused op."""

    def heads(x: Tensor) -> Tensor:
        b, t, e = x.shape
        return x.reshape(b, t, HEADS, e // HEADS).permute(0, 2, 1, 3)

    qh, kh, vh = heads(q), heads(k), heads(v)
    scores = (qh * (1.0 / math.sqrt(qh.shape[-1]))) @ kh.permute(0, 1, 3, 2)
    steps, source = scores.shape[-2:]
    mask = causal_mask(np, steps, source) if causal else None
    attn = scores.softmax(-1, mask=mask) if causal else scores.softmax(-1)
    if dropout:
        attn = attn.dropout(dropout)
    b, _, t, d = qh.shape
    return (attn @ vh).permute(0, 2, 1, 3).reshape(b, t, HEADS * d)


def _arrays(steps: int, source: int, e: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(steps * 10 + source)
    return [rng.standard_normal((3, n, e)) for n in (steps, source, source)]


@pytest.mark.parametrize("causal", [False, True])
def test_packed_gradient_matches_finite_differences(causal: bool) -> None:
    qkv = Tensor(np.random.default_rng(1).standard_normal((2, 4, 18)), autograd=True)
    assert gradcheck(lambda x: Attention.apply(x, heads=HEADS, causal=causal, packed=True), [qkv])


@pytest.mark.parametrize(("steps", "source", "causal"), [(4, 4, True), (3, 5, False)])
def test_separate_inputs_gradient_matches_finite_differences(
    steps: int, source: int, causal: bool
) -> None:
    inputs = [Tensor(a, autograd=True) for a in _arrays(steps, source)]
    assert gradcheck(lambda q, k, v: Attention.apply(q, k, v, heads=HEADS, causal=causal), inputs)


@pytest.mark.parametrize(("steps", "source", "causal"), [(4, 4, True), (4, 4, False), (3, 5, True)])
def test_matches_the_composed_ops(steps: int, source: int, causal: bool) -> None:
    arrays = _arrays(steps, source)
    grad = np.random.default_rng(2).standard_normal((3, steps, 6))
    results = []
    for fused in (True, False):
        q, k, v = (Tensor(a, autograd=True) for a in arrays)
        out = Attention.apply(q, k, v, heads=HEADS, causal=causal) if fused else None
        out = out if fused else composed(q, k, v, causal)
        assert out is not None
        out.backward(Tensor(grad))
        results.append([out.data] + [t.grad.data for t in (q, k, v)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_packed_matches_separate_inputs_and_keeps_the_weights() -> None:
    rng = np.random.default_rng(3)
    qkv = Tensor(rng.standard_normal((2, 5, 18)), autograd=True)
    kept: list[Any] = []
    out = Attention.apply(qkv, heads=HEADS, causal=True, packed=True, on_weights=kept.append)
    out.backward(Tensor(np.ones(out.shape)))
    parts = [Tensor(qkv.data[..., i * 6 : (i + 1) * 6], autograd=True) for i in range(3)]
    ref = composed(*parts, causal=True)
    ref.backward(Tensor(np.ones(ref.shape)))
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12)
    grads = np.concatenate([p.grad.data for p in parts], axis=-1)
    np.testing.assert_allclose(qkv.grad.data, grads, rtol=1e-12, atol=1e-13)
    (weights,) = kept
    assert weights.shape == (2, HEADS, 5, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    assert (weights[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0).all()


def test_dropout_draws_the_same_mask_as_the_dropout_op() -> None:
    arrays = _arrays(4, 4)
    results = []
    for fused in (True, False):
        np.random.seed(5)
        q, k, v = (Tensor(a, autograd=True) for a in arrays)
        if fused:
            out = Attention.apply(q, k, v, heads=HEADS, causal=True, dropout=0.5)
        else:
            out = composed(q, k, v, causal=True, dropout=0.5)
        out.sum().backward()
        results.append([out.data] + [t.grad.data for t in (q, k, v)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_float32_stays_float32() -> None:
    engine.set_default_dtype(np.float32)
    qkv = Tensor(np.random.default_rng(4).standard_normal((2, 3, 12)), autograd=True)
    out = Attention.apply(qkv, heads=HEADS, causal=True, packed=True)
    out.sum().backward()
    assert out.data.dtype == np.float32 and qkv.grad.data.dtype == np.float32


def test_float16_is_computed_in_float32_and_stays_float16() -> None:
    data = np.random.default_rng(6).standard_normal((2, 5, 12))
    results = []
    for dtype in (np.float16, np.float32):
        engine.set_default_dtype(dtype)
        qkv = Tensor(data.astype(dtype), autograd=True)
        out = Attention.apply(qkv, heads=HEADS, causal=True, packed=True)
        out.backward(Tensor(np.ones(out.shape, dtype)))
        assert out.data.dtype == dtype and qkv.grad.data.dtype == dtype
        results.append([out.data, qkv.grad.data])
    for half, single in zip(*results, strict=True):
        np.testing.assert_allclose(half.astype(np.float32), single, rtol=0.02, atol=0.02)
