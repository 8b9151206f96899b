"""The one-primitive layer norm (``engine/ops/layer_norm.py``): finite differences in float64,
the same values and gradients as the composed ops, and PyTorch's ``layer_norm``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine
from engine import LayerNorm, Tensor, gradcheck
from engine.ops.layer_norm import LayerNormFn

RNG = np.random.default_rng(11)
EPS = 1e-5


@pytest.fixture(autouse=True)
def float64() -> Any:
    engine.set_default_dtype(np.float64)
    yield
    engine.set_default_dtype(np.float32)


def _inputs(shape: tuple[int, ...]) -> list[Tensor]:
    n = shape[-1]
    arrays = [RNG.standard_normal(shape) * 3 + 1, RNG.standard_normal(n), RNG.standard_normal(n)]
    return [Tensor(a, autograd=True) for a in arrays]


def composed(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """LayerNorm as the engine composed it from ops before the fused primitive."""
    centred = x - x.mean(-1, keepdims=True)
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / (var + EPS).sqrt() * w + b


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), (1, 1)])
def test_gradient_matches_finite_differences(shape: tuple[int, ...]) -> None:
    assert gradcheck(lambda x, w, b: LayerNormFn.apply(x, w, b, eps=EPS), _inputs(shape))


def test_matches_the_composed_ops() -> None:
    arrays = [t.data for t in _inputs((4, 6, 8))]
    grad = RNG.standard_normal((4, 6, 8))
    results = []
    for fn in (lambda x, w, b: LayerNormFn.apply(x, w, b, eps=EPS), composed):
        inputs = [Tensor(a, autograd=True) for a in arrays]
        out = fn(*inputs)
        out.backward(Tensor(grad))
        results.append([out.data] + [t.grad.data for t in inputs])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-12)


def test_layer_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    layer = LayerNorm(8)
    layer.weight.data[...] = RNG.standard_normal(8)
    layer.bias.data[...] = RNG.standard_normal(8)
    x_np, g_np = RNG.standard_normal((3, 5, 8)), RNG.standard_normal((3, 5, 8))
    x = Tensor(x_np, autograd=True)
    out = layer(x)
    out.backward(Tensor(g_np))
    ref = torch.nn.LayerNorm(8).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in layer.torch_state_dict().items()})
    tx = torch.tensor(x_np, requires_grad=True)
    tout = ref(tx)
    tout.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.weight.grad.data, ref.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-10)


def test_input_only_gradient_and_float32() -> None:
    engine.set_default_dtype(np.float32)
    x = Tensor(RNG.standard_normal((2, 3, 4)), autograd=True)
    w, b = Tensor(np.ones(4)), Tensor(np.zeros(4))
    out = LayerNormFn.apply(x, w, b, eps=EPS)
    out.sum().backward()
    assert out.data.dtype == np.float32 and x.grad.data.dtype == np.float32
    assert w.grad is None and b.grad is None
    np.testing.assert_allclose(x.grad.data, 0.0, atol=1e-6)  # the sum is constant in x


def test_float16_is_computed_in_float32_and_stays_float16() -> None:
    data = [RNG.standard_normal(s) for s in ((2, 3, 16), (16,), (16,), (2, 3, 16))]
    results = []
    for dtype in (np.float16, np.float32):
        engine.set_default_dtype(dtype)
        x, w, b = (Tensor(a.astype(dtype), autograd=True) for a in data[:3])
        out = LayerNormFn.apply(x, w, b, eps=EPS)
        out.backward(Tensor(data[3].astype(dtype)))
        grads = [t.grad.data for t in (x, w, b)]
        assert all(a.dtype == dtype for a in [out.data, *grads])
        results.append([out.data, *grads])
    for half, single in zip(*results, strict=True):
        np.testing.assert_allclose(half.astype(np.float32), single, rtol=0.02, atol=0.02)
