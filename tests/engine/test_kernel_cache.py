"""Where compiled kernels are kept, seen from a fresh process: a read-only cache still works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh process: GELU (float32 by default; its kernels compiled or loaded on first use,
# as every kernel is) checked against erf, and where the cache is printed (or "memory"). Only
# GELU's kernels are compiled, to keep the test short: every kernel is made by one decorator.
PROBE = """
import math, sys
import numpy as np
from engine import GELU, Tensor
from engine.kernels import compiler

x = np.linspace(-4.0, 4.0, 33)
y = GELU().forward(Tensor(x, autograd=True))
y.backward(Tensor(np.ones_like(x)))
want = np.array([v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
assert np.allclose(y.data, want, rtol=1e-5, atol=1e-6), (y.data, want)
folder = compiler.cache_dir()
print("memory" if folder is None else folder)
"""


def _probe(tmp_path: Path, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "NODEGRAD_KERNEL_CACHE"}
    environment.update(env, PYTHONPATH=str(ROOT), HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_an_unwritable_cache_compiles_in_memory_and_writes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "read-only"  # a file where the folder should be: refused even to root
    blocker.write_text("not a folder")
    xdg = tmp_path / "xdg"
    out = _probe(tmp_path, NODEGRAD_KERNEL_CACHE=str(blocker / "kernels"), XDG_CACHE_HOME=str(xdg))
    assert out == "memory"
    assert blocker.read_text() == "not a folder"
    assert _files(xdg) == [] and _files(tmp_path / "home") == []


def test_the_cache_goes_under_xdg_cache_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    out = Path(_probe(tmp_path, XDG_CACHE_HOME=str(xdg)))
    assert out.parent == xdg / "nodegrad" / "kernels"
    assert any(p.suffix == ".nbi" for p in _files(out)), _files(out)  # Numba's index files
    assert _files(tmp_path / "home") == []
