"""Autograd overhead of the engine against PyTorch CPU, per op, forward plus backward.

Run ``.venv/bin/python benchmarks/bench_ops.py``. Each workload is timed several times and the
best run is kept (the least disturbed by other processes). PyTorch is timed in the same run when it
is importable; the last column is engine time / PyTorch time (at most 1.0 is the budget).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import Tensor

try:
    import torch
except ImportError:  # the benchmark still reports the engine's own numbers
    torch = None


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Return the fastest of ``repeats`` timed calls of ``fn``, in seconds."""
    fn()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def engine_chain(n: int) -> Callable[[], object]:
    """Forward and backward through ``n`` scalar additions."""

    def run() -> object:
        x = Tensor(np.array(1.0, dtype=np.float32), autograd=True)
        y = x
        for _ in range(n):
            y = y + x
        y.backward()
        return x.grad

    return run


def torch_chain(n: int) -> Callable[[], object]:
    """The same chain in PyTorch."""

    def run() -> object:
        x = torch.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y + x
        y.backward()
        return x.grad

    return run


def engine_op(name: str, n: int) -> Callable[[], object]:
    """``n`` applications of one op (mm 128x128, relu, sum) on fresh leaves, then backward."""
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((128, 128)), autograd=True)
    b = Tensor(rng.standard_normal((128, 128)), autograd=True)
    op = {"mm": lambda: a.mm(b), "relu": lambda: a.relu(), "sum": lambda: a.sum()}[name]

    def run() -> object:
        total = None
        for _ in range(n):
            out = op().sum() if name != "sum" else op()
            total = out if total is None else total + out
        total.backward()
        return a.grad

    return run


def torch_op(name: str, n: int) -> Callable[[], object]:
    """The same op workload in PyTorch."""
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.standard_normal((128, 128)), dtype=torch.float32, requires_grad=True)
    b = torch.tensor(rng.standard_normal((128, 128)), dtype=torch.float32, requires_grad=True)
    op = {"mm": lambda: a.mm(b), "relu": lambda: a.relu(), "sum": lambda: a.sum()}[name]

    def run() -> object:
        total = None
        for _ in range(n):
            out = op().sum() if name != "sum" else op()
            total = out if total is None else total + out
        total.backward()
        return a.grad

    return run


def report(label: str, ops: int, ours: float, theirs: float | None) -> None:
    """Print one line: microseconds per op for both, and the ratio."""
    line = f"{label:<34} engine {ours / ops * 1e6:8.2f} us/op"
    if theirs is not None:
        line += f"   torch {theirs / ops * 1e6:8.2f} us/op   ratio {ours / theirs:5.2f}"
    print(line)


def main() -> None:
    """Run the workloads and print per-op times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch_version = torch.__version__ if torch is not None else "not installed"
    if torch is not None:
        torch.set_num_threads(1)
    print(f"numpy {np.__version__}, torch {torch_version}; best of {args.repeats} runs")
    n = 1000
    ours = best_time(engine_chain(n), args.repeats)
    theirs = best_time(torch_chain(n), args.repeats) if torch is not None else None
    report(f"chain of {n} scalar adds (fwd+bwd)", n, ours, theirs)
    for name in ("mm", "relu", "sum"):
        ops = 50
        ours = best_time(engine_op(name, ops), args.repeats)
        theirs = best_time(torch_op(name, ops), args.repeats) if torch is not None else None
        report(f"{name} 128x128 (+sum, add; fwd+bwd)", ops, ours, theirs)


if __name__ == "__main__":
    main()
