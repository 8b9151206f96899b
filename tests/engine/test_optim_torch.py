"""Weight decay, AdamW, gradient clipping and learning-rate schedules against PyTorch: the same
trajectories over several steps of a real model, and the same rates step by step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from engine import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    CrossEntropyLoss,
    Linear,
    LinearLR,
    Sequential,
    StepLR,
    Tanh,
    Tensor,
    clip_grad_norm,
)

torch = pytest.importorskip("torch")
sched = torch.optim.lr_scheduler

OPTIMIZERS: dict[str, tuple[Callable[[list[Tensor]], Any], Callable[[list[Any]], Any]]] = {
    "sgd_wd": (
        lambda ps: SGD(ps, alpha=0.1, weight_decay=0.05),
        lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05),
    ),
    "momentum_wd": (
        lambda ps: SGD(ps, alpha=0.1, momentum=0.9, weight_decay=0.05),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05),
    ),
    "adam_wd": (
        lambda ps: Adam(ps, alpha=0.01, weight_decay=0.05),
        lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.05),
    ),
    "adamw": (
        lambda ps: AdamW(ps, alpha=0.01, betas=(0.8, 0.95), weight_decay=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.8, 0.95), weight_decay=0.1),
    ),
    "adamw_defaults": (lambda ps: AdamW(ps), lambda ps: torch.optim.AdamW(ps)),
}


def twin_models() -> tuple[Sequential, Any]:
    """An engine MLP and the PyTorch MLP with the same float64 weights."""
    np.random.seed(3)
    ours = Sequential([Linear(5, 7), Tanh(), Linear(7, 3)])
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    theirs = theirs.double()
    with torch.no_grad():
        for k in (0, 2):
            theirs[k].weight.copy_(torch.tensor(ours[k].weight.numpy().T.astype(np.float64)))
            theirs[k].bias.copy_(torch.tensor(ours[k].bias.numpy().astype(np.float64)))
    return ours, theirs


def assert_same_weights(ours: Sequential, theirs: Any, what: str) -> None:
    for k in (0, 2):
        for name, ref in (("weight", theirs[k].weight.detach().numpy().T), ("bias", None)):
            value = getattr(ours[k], name).numpy()
            ref = ref if ref is not None else theirs[k].bias.detach().numpy()
            np.testing.assert_allclose(value, ref, rtol=1e-9, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
@pytest.mark.parametrize("clip", [None, 0.3])
def test_training_trajectory_matches_pytorch(kind: str, clip: float | None) -> None:
    """Eight steps on a real loss (so the weights feed back into the gradients): the same
    weights after every step, with and without clipping the gradient norm."""
    import engine

    engine.set_default_dtype(np.float64)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 5)), rng.integers(0, 3, 16)
    ours, theirs = twin_models()
    make_ours, make_theirs = OPTIMIZERS[kind]
    opt, topt = make_ours(ours.get_parameters()), make_theirs(list(theirs.parameters()))
    for step in range(8):
        loss = CrossEntropyLoss()(ours(Tensor(x)), y)
        loss.backward()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        topt.zero_grad()
        tloss.backward()
        if clip is not None:
            norm = clip_grad_norm(ours.get_parameters(), clip)
            tnorm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), clip)
            assert norm == pytest.approx(float(tnorm), rel=1e-9)
        opt.step()
        topt.step()
        assert_same_weights(ours, theirs, f"{kind} after step {step + 1}")


def test_float32_weight_decay_matches_pytorch() -> None:
    """Users train in float32: AdamW's and SGD's decay in float32 against PyTorch's."""
    rng = np.random.default_rng(2)
    start = rng.normal(size=(4, 3)).astype(np.float32)
    for make_ours, make_theirs in (OPTIMIZERS["adamw"], OPTIMIZERS["momentum_wd"]):
        w = Tensor(start.copy(), autograd=True)
        tw = torch.tensor(start.copy(), requires_grad=True)
        opt, topt = make_ours([w]), make_theirs([tw])
        for _step in range(5):
            g = rng.normal(size=(4, 3)).astype(np.float32)
            w.grad, tw.grad = Tensor(g), torch.tensor(g)
            opt.step()
            topt.step()
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_leaves_small_gradients_and_skips_missing_ones() -> None:
    a, b, c = (Tensor(np.zeros(2), autograd=True) for _ in range(3))
    a.grad, b.grad = Tensor(np.array([0.3, 0.0])), Tensor(np.array([0.0, 0.4]))
    assert clip_grad_norm([a, b, c], 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad.numpy(), np.float32([0.3, 0.0]))
    assert clip_grad_norm([a, b, c], 0.25) == pytest.approx(0.5)
    assert np.hypot(a.grad.numpy()[0], b.grad.numpy()[1]) == pytest.approx(0.25, rel=1e-5)
    assert clip_grad_norm([c], 1.0) == 0.0
    with pytest.raises(ValueError, match=r"max_norm must be >= 0, got -1\.0"):
        clip_grad_norm([a], -1)


SCHEDULES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "step": (lambda o: StepLR(o, 3, gamma=0.5), lambda o: sched.StepLR(o, 3, gamma=0.5)),
    "cosine": (
        lambda o: CosineAnnealingLR(o, 10, eta_min=0.01),
        lambda o: sched.CosineAnnealingLR(o, 10, eta_min=0.01),
    ),
    "linear": (
        lambda o: LinearLR(o, 0.2, 0.9, total_iters=6),
        lambda o: sched.LinearLR(o, 0.2, 0.9, total_iters=6),
    ),
    "cosine_warmup": (
        lambda o: CosineAnnealingLR(o, 10, eta_min=0.01, warmup=4),
        lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, 1 / 5, 1.0, 4), sched.CosineAnnealingLR(o, 10, 0.01)], [4]
        ),
    ),
    "step_warmup": (
        lambda o: StepLR(o, 3, gamma=0.5, warmup=2),
        lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, 1 / 3, 1.0, 2), sched.StepLR(o, 3, gamma=0.5)], [2]
        ),
    ),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_schedule_rates_match_pytorch(kind: str) -> None:
    make_ours, make_theirs = SCHEDULES[kind]
    opt = AdamW([Tensor([1.0], autograd=True)], alpha=0.5)
    topt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=0.5)
    ours, theirs = make_ours(opt), make_theirs(topt)
    for step in range(30):
        assert opt.alpha == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12), step
        assert ours.get_last_lr()[0] == opt.alpha
        topt.step()
        theirs.step()
        ours.step()


def test_schedule_state_round_trip_and_errors() -> None:
    opt = SGD([Tensor([1.0], autograd=True)], alpha=1.0)
    schedule = StepLR(opt, 2, gamma=0.5, warmup=1)
    for _ in range(4):
        schedule.step()
    again = StepLR(SGD([Tensor([1.0], autograd=True)], alpha=1.0), 2, gamma=0.5, warmup=1)
    again.load_state_dict(schedule.state_dict())
    assert again.optimizer.alpha == opt.alpha == 0.5  # warm-up step, then epochs 0-2
    with pytest.raises(ValueError, match="step_size must be a whole number >= 1, got 0"):
        StepLR(opt, 0)
    with pytest.raises(ValueError, match="warmup must be a whole number >= 0, got -2"):
        CosineAnnealingLR(opt, 5, warmup=-2)
    with pytest.raises(TypeError, match="expected an optimizer"):
        StepLR([opt], 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"weight_decay must be >= 0, got -0\.1"):
        AdamW(opt.parameters, weight_decay=-0.1)


def test_state_dict_keeps_weight_decay() -> None:
    opt = AdamW([Tensor([1.0], autograd=True)], weight_decay=0.2)
    again = AdamW(opt.parameters)
    again.load_state_dict(opt.state_dict())
    assert again.weight_decay == 0.2
