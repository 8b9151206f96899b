"""The two language-model examples side by side, each trained as a user would train it.

Runs ``nodegrad train`` on copies of ``examples/char_transformer.nodegrad`` and
``examples/char_lstm.nodegrad`` (their saved settings: same corpus, same windows, same
validation text), one after the other in fresh processes, and prints for each the wall time,
the CPU time and the validation next-character accuracy it reports. The transformer's claim
(README, "A short tour") is a higher accuracy in at most the LSTM's wall time; the script
says whether this run bears it out, and whether each example trained in under two minutes.

Run ``.venv/bin/python benchmarks/compare_char_models.py`` on a quiet machine (``--threads 1``
for one BLAS thread each; ``--epochs`` to shorten both for a trial run).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("char_transformer", "char_lstm")
BUDGET_S = 120.0  # the "under two minutes on 2 CPU cores"


@dataclass(frozen=True)
class Trained:
    """One ``nodegrad train`` run: times in seconds, accuracy in percent."""

    name: str
    wall_s: float
    cpu_s: float
    accuracy: float


def train(name: str, folder: Path, threads: int, epochs: int | None) -> Trained:
    """Train a copy of example ``name`` in ``folder`` with ``nodegrad train``."""
    graph = folder / f"{name}.nodegrad"
    shutil.copy(ROOT / "examples" / f"{name}.nodegrad", graph)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    command = [sys.executable, "-m", "app.cli", "train", str(graph), "--no-save"]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{name}: nodegrad train failed:\n{done.stdout}{done.stderr}")
    found = re.search(r"validation accuracy: ([\d.]+)%", done.stdout)
    if found is None:
        raise SystemExit(f"{name}: no validation accuracy in the output:\n{done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Trained(name, wall, cpu, float(found.group(1)))


def main() -> int:
    """Train both examples and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    parser.add_argument("--epochs", type=int, help="override both examples' epochs")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}, BLAS threads {args.threads}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [train(name, Path(tmp), args.threads, args.epochs) for name in MODELS]
    print(f"{'example':<18}{'wall s':>9}{'CPU s':>9}{'val acc %':>11}")
    for r in runs:
        print(f"{r.name:<18}{r.wall_s:>9.1f}{r.cpu_s:>9.1f}{r.accuracy:>11.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    transformer, lstm = runs
    beats = transformer.accuracy > lstm.accuracy and transformer.wall_s <= lstm.wall_s
    print(
        "transformer beats the LSTM in at most its wall time: "
        f"{'yes' if beats else 'no'} ({transformer.accuracy:.2f}% in {transformer.wall_s:.0f} s "
        f"against {lstm.accuracy:.2f}% in {lstm.wall_s:.0f} s)"
    )
    for r in runs:
        verdict = "yes" if r.wall_s < BUDGET_S else "no"
        print(f"{r.name} trained in under {BUDGET_S:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
