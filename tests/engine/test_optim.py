"""Optimizers: update rules against hand computation (and PyTorch when installed), state dicts."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import SGD, Adam, Linear, Tensor


def make_params():
    rng = np.random.default_rng(0)
    return [
        Tensor(rng.normal(size=(3, 2)), autograd=True),
        Tensor(rng.normal(size=4), autograd=True),
    ]


def grads_for(step):
    rng = np.random.default_rng(100 + step)
    return [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=4).astype(np.float32)]


def set_grads(params, grads):
    for p, g in zip(params, grads, strict=True):
        if p.grad is None:
            p.grad = Tensor(g.copy())
        else:
            p.grad.data[...] = g


def test_sgd_plain_updates_in_place_and_zeroes_as_the_book():
    (w, b) = params = make_params()
    data_before, start = w.data, [p.numpy() for p in params]
    opt = SGD(parameters=params, alpha=0.5)
    g = grads_for(0)
    set_grads(params, g)
    grad_obj = w.grad
    opt.step(zero=False)
    np.testing.assert_allclose(w.numpy(), start[0] - 0.5 * g[0], rtol=1e-6)
    assert w.data is data_before and w.grad is grad_obj
    np.testing.assert_array_equal(w.grad.numpy(), g[0])
    opt.zero()
    assert w.grad is grad_obj and not w.grad.numpy().any()
    set_grads(params, g)
    opt.step()
    assert not b.grad.numpy().any()


def test_sgd_momentum_matches_hand_computation():
    params = make_params()
    opt = SGD(params, alpha=0.1, momentum=0.9)
    p = [x.numpy().astype(np.float64) for x in params]
    v = [np.zeros_like(x) for x in p]
    for step in range(4):
        g = grads_for(step)
        set_grads(params, g)
        opt.step()
        for k in range(2):
            v[k] = 0.9 * v[k] + g[k]
            p[k] = p[k] - 0.1 * v[k]
    for k in range(2):
        np.testing.assert_allclose(params[k].numpy(), p[k], rtol=1e-5)


def test_adam_matches_hand_computation():
    params = make_params()
    opt = Adam(params, alpha=0.01, betas=(0.8, 0.9), eps=1e-6)
    p = [x.numpy().astype(np.float64) for x in params]
    m = [np.zeros_like(x) for x in p]
    v = [np.zeros_like(x) for x in p]
    for t in range(1, 5):
        g = grads_for(t)
        set_grads(params, g)
        opt.step()
        for k in range(2):
            m[k] = 0.8 * m[k] + 0.2 * g[k]
            v[k] = 0.9 * v[k] + 0.1 * g[k] ** 2
            p[k] -= 0.01 * (m[k] / (1 - 0.8**t)) / (np.sqrt(v[k] / (1 - 0.9**t)) + 1e-6)
    for k in range(2):
        np.testing.assert_allclose(params[k].numpy(), p[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    params = make_params()
    tparams = [torch.tensor(p.numpy(), requires_grad=True) for p in params]
    if kind == "sgd":
        ours = SGD(params, alpha=0.05, momentum=0.7)
        theirs = torch.optim.SGD(tparams, lr=0.05, momentum=0.7)
    else:
        ours = Adam(params, alpha=0.05)
        theirs = torch.optim.Adam(tparams, lr=0.05)
    for step in range(5):
        g = grads_for(step)
        set_grads(params, g)
        for tp, gk in zip(tparams, g, strict=True):
            tp.grad = torch.tensor(gk)
        ours.step()
        theirs.step()
    for p, tp in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, 0.1, momentum=0.9), lambda ps: Adam(ps)])
def test_state_dict_round_trip_resumes_identically(make, tmp_path):
    a, b = make_params(), make_params()
    opt_a = make(a)
    for step in range(3):
        set_grads(a, grads_for(step))
        opt_a.step()
    for pa, pb in zip(a, b, strict=True):
        pb.data[...] = pa.data
    np.savez(tmp_path / "opt.npz", **opt_a.state_dict())
    opt_b = make(b)
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as saved:
        opt_b.load_state_dict(dict(saved))
    assert opt_b.t == 3
    for step in range(3, 5):
        for params, opt in ((a, opt_a), (b, opt_b)):
            set_grads(params, grads_for(step))
            opt.step()
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


def test_state_dict_errors_and_alpha_is_writable():
    params = make_params()
    opt = SGD(params, momentum=0.5)
    with pytest.raises(KeyError, match=r"'v\.7'"):
        opt.load_state_dict({"v.7": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'v.0' has shape \(2,\), parameter 0 has \(3, 2\)"):
        opt.load_state_dict({"v.0": np.zeros(2)})
    opt.load_state_dict({"alpha": np.asarray(0.25)})
    assert opt.alpha == 0.25
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        SGD([np.zeros(2)])


def test_parameters_without_gradient_are_skipped():
    layer = Linear(2, 2)
    before = layer.weight.numpy()
    Adam(layer.get_parameters()).step()
    np.testing.assert_array_equal(layer.weight.numpy(), before)


def test_float16_parameters_keep_float32_state_and_no_nan():
    """In float16, Adam's eps (1e-8) rounds to 0 and small gradients square to 0: a zero
    gradient element gave 0/0 = NaN. The state is float32 and the step is taken in float32."""
    engine.set_default_dtype(np.float16)  # the fixture in conftest restores it
    w = Tensor(np.array([1.0, -2.0, 0.5], dtype=np.float16), autograd=True)
    opt = Adam([w], alpha=0.01)
    for _ in range(3):
        w.grad = Tensor(np.array([0.0, 1e-4, -3.0], dtype=np.float16))
        opt.step()
    assert w.data.dtype == np.float16 and np.isfinite(w.data).all()
    assert w.data[0] == np.float16(1.0)  # a zero gradient moves nothing
    assert w.data[1] < -2.02 and w.data[2] > 0.52  # small and large gradients both step
    state = opt.state_dict()
    assert state["m.0"].dtype == np.float32 and state["v.0"].dtype == np.float32
    again = Adam([w], alpha=0.01)
    again.load_state_dict(state)
    assert again.state[0]["v"].dtype == np.float32
    momentum = SGD([w], alpha=0.1, momentum=0.9)
    w.grad = Tensor(np.array([1.0, 1.0, 1.0], dtype=np.float16))
    momentum.step()
    assert momentum.state[0]["v"].dtype == np.float32 and w.data.dtype == np.float16
