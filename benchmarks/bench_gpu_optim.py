"""Optimizer step on a GPU: the fused CuPy kernels against the same rules as array operations.

Run ``python benchmarks/bench_gpu_optim.py`` on a machine with CuPy and a GPU. The parameters
are those of the char-LSTM example (embedding, LSTM, read-out: 6 arrays, float32); each line
is the best of 7 blocks of 200 steps, with a device synchronisation before each clock read.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import SGD, Adam, Tensor, backend

SHAPES = [(65, 32), (32, 512), (128, 512), (512,), (128, 65), (65,)]


def parameters(cp: object) -> list[Tensor]:
    """Trainable tensors on the GPU, each with a random gradient."""
    rng = np.random.default_rng(0)
    params = []
    for shape in SHAPES:
        p = Tensor(rng.normal(size=shape).astype(np.float32), autograd=True).to("gpu")
        p.grad = Tensor(rng.normal(size=shape).astype(np.float32)).to("gpu")
        params.append(p)
    return params


def array_ops_adam(params: list[Tensor], cp: object, alpha: float = 1e-3) -> Callable[[], None]:
    """Adam written with CuPy array operations, as the engine's CPU path does."""
    state = [(cp.zeros_like(p.data), cp.zeros_like(p.data)) for p in params]  # type: ignore[attr-defined]
    t = [0]

    def step() -> None:
        t[0] += 1
        for p, (m, v) in zip(params, state, strict=True):
            g = p.grad.data
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            denom = cp.sqrt(v / (1 - 0.999 ** t[0]))  # type: ignore[attr-defined]
            denom += 1e-8
            p.data -= alpha / (1 - 0.9 ** t[0]) * m / denom

    return step


def array_ops_momentum(params: list[Tensor], cp: object, alpha: float = 0.1) -> Callable[[], None]:
    """SGD with momentum written with CuPy array operations."""
    vs = [cp.zeros_like(p.data) for p in params]  # type: ignore[attr-defined]

    def step() -> None:
        for p, v in zip(params, vs, strict=True):
            v *= 0.9
            v += p.grad.data
            p.data -= alpha * v

    return step


def best_ms(step: Callable[[], None], sync: Callable[[], None], steps: int = 200) -> float:
    """Best per-step time over 7 blocks (after a warm-up block)."""
    best = float("inf")
    for block in range(8):
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        if block:
            best = min(best, (time.perf_counter() - start) / steps * 1e3)
    return best


def main() -> int:
    """Print the per-step times and the ratios."""
    reason = backend.gpu_unavailable_reason()
    if reason is not None:
        print(f"no GPU: {reason}")
        return 1
    cp = backend.array_module("gpu")
    sync = cp.cuda.Device().synchronize
    rows = []
    for name, fused_opt, by_hand in [
        ("sgd momentum", lambda ps: SGD(ps, alpha=0.1, momentum=0.9), array_ops_momentum),
        ("adam", lambda ps: Adam(ps, alpha=1e-3), array_ops_adam),
    ]:
        params = parameters(cp)
        optimizer = fused_opt(params)
        fused = best_ms(lambda o=optimizer: o.step(zero=False), sync)
        ops = best_ms(by_hand(parameters(cp), cp), sync)
        rows.append((name, fused, ops))
    print("| optimizer | fused kernel ms | array operations ms | fused/ops |")
    print("|---|---:|---:|---:|")
    for name, fused, ops in rows:
        print(f"| {name} | {fused:.3f} | {ops:.3f} | {fused / ops:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
