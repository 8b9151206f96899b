"""The engine's split mode against its default, interleaved block by block in one process.

Run ``.venv/bin/python benchmarks/bench_split_gemm.py --steps 10 --blocks 5`` (``--workloads``
to choose among ``bench_train.py``'s). Three columns take turns block by block, so a burst of
load from other processes hits them alike (the best block of each is kept):

- ``default``: ``engine.set_num_threads(1)``, BLAS on ``BENCH_THREADS`` threads (2);
- ``split``: ``engine.set_num_threads(2)``: BLAS held to one thread, the engine's large products
  and element-wise work split over its own two threads (``engine/ops/gemm.py``);
- ``torch``: PyTorch on ``BENCH_THREADS`` threads.

Both engine columns run the same model and optimizer (one training run, alternating modes).
The load average is printed before and after each workload.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import bench_train  # first: it sets the BLAS threads before NumPy loads)

THREADS = bench_train.THREADS

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import engine  # noqa: E402

MODES = {"default": 1, "split": 2}


def time_modes(
    engine_step: bench_train.Step, torch_step: bench_train.Step | None, steps: int, blocks: int
) -> dict[str, float]:
    """Best ms per step of the engine in each mode and of PyTorch, interleaved block by block."""
    columns: dict[str, tuple[int | None, bench_train.Step]] = {
        mode: (threads, engine_step) for mode, threads in MODES.items()
    }
    if torch_step is not None:
        columns["torch"] = (None, torch_step)
    for threads, step in columns.values():
        if threads is not None:
            engine.set_num_threads(threads)
        for _ in range(max(2, steps // 5)):
            step()
    best = dict.fromkeys(columns, float("inf"))
    for _ in range(blocks):
        for name, (threads, step) in columns.items():
            engine.set_num_threads(threads or 1)
            time.sleep(bench_train.SETTLE_S)
            step()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / steps * 1e3)
    engine.set_num_threads(1)
    return best


def main(argv: list[str] | None = None) -> int:
    """Time every chosen workload in both modes beside PyTorch and print a Markdown table."""
    names = list(bench_train.WORKLOADS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=5, help="timed blocks (best is kept)")
    parser.add_argument("--workloads", nargs="*", default=names, choices=names)
    args = parser.parse_args(argv)
    torch = bench_train.torch
    print(
        f"NumPy {np.__version__}, PyTorch {torch.__version__ if torch else '-'}, "
        f"BLAS threads {THREADS}, {args.blocks} blocks of {args.steps} steps"
    )
    print(
        "| workload | default ms | split ms | torch ms | split/default | default/torch "
        "| split/torch | load before, after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in args.workloads:
        before = os.getloadavg()[0]
        makers = bench_train.WORKLOADS[name]
        np.random.seed(0)
        engine_step = makers["engine"]("cpu")
        torch_step = makers["torch"]("cpu") if torch is not None else None
        t = time_modes(engine_step, torch_step, args.steps, args.blocks)
        tt = t.get("torch", float("nan"))
        print(
            f"| {name} | {t['default']:.3f} | {t['split']:.3f} | {tt:.3f} | "
            f"{t['split'] / t['default']:.2f} | {t['default'] / tt:.2f}x | "
            f"{t['split'] / tt:.2f}x | {before:.2f}, {os.getloadavg()[0]:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
