"""How kernels are compiled: Numba's ``njit`` with one set of options, cached on disk.

Options: ``nogil`` (the engine's thread pool runs kernels on blocks of rows at once),
``error_model='numpy'`` (a division by zero gives inf or NaN as in NumPy, instead of a check
that stops the loop from being vectorised), and the fast-maths flags that let LLVM contract
multiply-adds and vectorise, but not those that assume no NaN or infinity: NaN and inf
propagate as they do in NumPy.

The cache lives in ``NODEGRAD_KERNEL_CACHE`` when set, else in the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``) under ``nodegrad/kernels/<tag>``; the tag hashes Numba's
version and the source of every module in this package, because Numba checks only the file of
the kernel itself and would otherwise reuse a kernel compiled against an older helper. Where no
cache folder can be written (a read-only home), kernels are compiled in memory on each run.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba

__all__ = ["FASTMATH", "cache_dir", "helper", "kernel"]

F = TypeVar("F", bound=Callable[..., Any])

#: LLVM fast-maths flags: contract (fused multiply-add), arcp (reciprocals), nsz (signed
#: zeros), afn (approximate library functions). Not nnan/ninf: NaN and inf behave as in NumPy.
FASTMATH = frozenset({"contract", "arcp", "nsz", "afn"})


def _tag() -> str:
    """A hash of Numba's version and this package's sources (see the module's notes)."""
    digest = hashlib.sha1(numba.__version__.encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def cache_dir() -> Path | None:
    """Where compiled kernels are kept, or None when no folder there can be written."""
    given = os.environ.get("NODEGRAD_KERNEL_CACHE", "").strip()
    if given:
        base = Path(given)
    else:
        home = os.environ.get("XDG_CACHE_HOME", "").strip()
        base = (Path(home) if home else Path.home() / ".cache") / "nodegrad" / "kernels"
    folder = base / _tag()
    return folder if _writable(folder) else None


_CACHE = cache_dir()
if _CACHE is not None:
    setattr(numba.config, "CACHE_DIR", str(_CACHE))  # noqa: B010  (read when kernels are made)


def kernel(fn: F) -> F:
    """Compile ``fn`` as a kernel (lazily, per argument types; cached on disk when possible)."""
    compiled = numba.njit(
        cache=_CACHE is not None, nogil=True, error_model="numpy", fastmath=set(FASTMATH)
    )(fn)
    return cast(F, compiled)


def helper(fn: F) -> F:
    """Compile ``fn`` as a function kernels call, inlined into them (so their loops vectorise)."""
    compiled = numba.njit(inline="always", error_model="numpy", fastmath=set(FASTMATH))(fn)
    return cast(F, compiled)
