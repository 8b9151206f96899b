"""Compiled CPU kernels: element-wise work fused into one pass over memory (Numba).

NumPy runs one whole-array pass per operation, and its float32 ``exp`` here is not vectorised:
GELU took about 26 passes and 5 ms on a (2048, 512) array. A kernel here does the same maths in
one vectorised loop (0.6 ms), with ``exp`` computed by :mod:`engine.kernels.vmath` in a form the
compiler vectorises. Each kernel is the **only** CPU implementation of its maths (CuPy keeps its
own); the ops call it for NumPy arrays of float32 and float64.

Nothing here is imported by ``import engine``: the ops import a kernel module on first use, which
imports Numba (about 0.3 s). Compiled machine code is cached on disk
(:mod:`engine.kernels.compiler`), so only the first use on a machine compiles; :func:`prepare`
loads or compiles every kernel up front, for a caller that wants to say that it is preparing.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["KERNEL_MODULES", "prepare", "prepared"]

#: The modules holding kernels, each with a ``warm_up()`` that runs its kernels once per dtype.
KERNEL_MODULES = (
    "engine.kernels.gaussian",
    "engine.kernels.norm",
    "engine.kernels.optimizers",
    "engine.kernels.panels",
    "engine.kernels.recurrent",
    "engine.kernels.softmax",
)

_lock = threading.Lock()
_prepared = False


def prepared() -> bool:
    """Whether :func:`prepare` has finished in this process (kernels loaded or compiled)."""
    return _prepared


def prepare() -> None:
    """Load every kernel from the disk cache, or compile it there (seconds, the first time on a
    machine): afterwards no op waits for a compiler."""
    global _prepared
    with _lock:
        if _prepared:
            return
        for name in KERNEL_MODULES:
            importlib.import_module(name).warm_up()
        _prepared = True
