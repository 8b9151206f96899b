"""Compiled CPU kernels: element-wise work fused into one pass over memory (Numba).

NumPy runs one whole-array pass per operation, and its float32 ``exp`` here is not vectorised:
GELU took about 26 passes and 5 ms on a (2048, 512) array. A kernel here does the same maths in
one vectorised loop (0.6 ms), with ``exp`` computed by :mod:`engine.kernels.vmath` in a form the
compiler vectorises. Each kernel is the **only** CPU implementation of its maths (CuPy keeps its
own); the ops call it for NumPy arrays of float32 and float64.

Nothing here is imported by ``import engine``: the ops reach a kernel module as an attribute of
this package (``kernels.softmax``), which imports it, and Numba (about 0.3 s), on first use
(:func:`__getattr__`); later uses are a plain attribute lookup. (An import statement inside the
op would run on every call, and with PySide6 loaded every import statement goes through its
Python import hook: six a step cost the digits MLP 7% of its training time in the editor.)
Compiled machine code is cached on disk (:mod:`engine.kernels.compiler`), so only the first use
on a machine compiles; :func:`prepare` loads or compiles every kernel up front, for a caller that
wants to say that it is preparing.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded on first use, by __getattr__
    from engine.kernels import gaussian as gaussian
    from engine.kernels import norm as norm
    from engine.kernels import optimizers as optimizers
    from engine.kernels import panels as panels
    from engine.kernels import recurrent as recurrent
    from engine.kernels import softmax as softmax

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

_LAZY = frozenset(name.rsplit(".", 1)[1] for name in KERNEL_MODULES)

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


if not TYPE_CHECKING:  # hidden from the type checker, which then rejects a misspelt module

    def __getattr__(name: str) -> ModuleType:
        """``engine.kernels.<name>`` for a kernel module not yet imported: import it (the
        import system then sets it on this package, so this runs once per module)."""
        if name in _LAZY:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
