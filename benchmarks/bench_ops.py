"""Autograd overhead of the engine against PyTorch CPU, per op, forward plus backward.

Run ``.venv/bin/python benchmarks/bench_ops.py``. Each workload is timed several times and the
best run is kept (the least disturbed by other processes). PyTorch is timed in the same run when it
is importable; the last column is engine time / PyTorch time (at most 1.0 is the budget).

Both libraries get the same number of BLAS/intra-op threads (``--threads``, default 1): on a small
shared machine a multi-threaded OpenBLAS can make a 128x128 matmul thirty times slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any


def _threads_from_argv() -> int:
    """Read ``--threads`` before NumPy is imported (BLAS reads its thread count at load)."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return 1


THREADS = _threads_from_argv()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402  (after the thread settings above)

from engine import Tensor  # noqa: E402

try:
    import torch
except ImportError:  # the benchmark still reports the engine's own numbers
    torch = None


def best_times(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Return the fastest of ``repeats`` timed calls of each function, in seconds.

    The functions take turns, so a burst of load from other processes hits all of them alike.
    """
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()  # warm up
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


Leaf = Callable[[np.ndarray], Any]  # makes a float32 leaf that requires a gradient


def engine_leaf(a: np.ndarray) -> Any:
    """An engine leaf tensor."""
    return Tensor(a, autograd=True, dtype=np.float32)


def torch_leaf(a: np.ndarray) -> Any:
    """A PyTorch leaf tensor."""
    return torch.tensor(a, dtype=torch.float32, requires_grad=True)


def chain(leaf: Leaf, n: int) -> Callable[[], object]:
    """Forward and backward through ``n`` scalar additions."""

    def run() -> object:
        x = leaf(np.array(1.0))
        y = x
        for _ in range(n):
            y = y + x
        y.backward()
        return x.grad

    return run


def op_workload(name: str, leaf: Leaf, n: int) -> Callable[[], object]:
    """``n`` times ``op(a).sum()`` (mm 128x128, relu, sum) added up, then backward."""
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal((128, 128))), leaf(rng.standard_normal((128, 128)))
    op = {"mm": lambda: a.mm(b).sum(), "relu": lambda: a.relu().sum(), "sum": lambda: a.sum()}

    def run() -> object:
        total = op[name]()
        for _ in range(n - 1):
            total = total + op[name]()
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
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads for both")
    args = parser.parse_args()
    torch_version = torch.__version__ if torch is not None else "not installed"
    if torch is not None:
        torch.set_num_threads(THREADS)
    print(
        f"numpy {np.__version__}, torch {torch_version}; {THREADS} thread(s); "
        f"best of {args.repeats} runs"
    )
    workloads: list[tuple[str, int, Callable[..., Callable[[], object]]]] = [
        ("chain of 1000 scalar adds (fwd+bwd)", 1000, chain)
    ]
    workloads += [
        (f"{name} 128x128 (+sum, add)", 50, partial(op_workload, name))
        for name in ("mm", "relu", "sum")
    ]
    leaves = [engine_leaf] + ([torch_leaf] if torch is not None else [])
    for label, ops, workload in workloads:
        fns = [workload(leaf, ops) for leaf in leaves]
        times = best_times(fns, args.repeats)
        report(label, ops, times[0], times[1] if len(times) > 1 else None)


if __name__ == "__main__":
    main()
