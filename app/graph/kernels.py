"""The engine's compiled kernels made ready before a run, with a one-line error when they cannot be.

The first use of the compiled kernels on a machine compiles them (seconds); later runs load them
from the disk cache. A caller that runs ops (the editor's worker threads, ``nodegrad train``)
asks :func:`needs_preparing` first, says :data:`PREPARING` where the user looks, then calls
:func:`prepare_kernels` off the GUI thread.
"""

from __future__ import annotations

import engine.kernels

__all__ = ["PREPARING", "needs_preparing", "prepare_kernels"]

#: What the editor shows while the kernels are loaded or compiled.
PREPARING = "Preparing compiled kernels (up to a minute the first time on this machine)…"


def needs_preparing() -> bool:
    """Whether the kernels still have to be loaded or compiled in this process (cheap; does not
    import the compiler)."""
    return not engine.kernels.prepared()


def prepare_kernels() -> str:
    """Load or compile every kernel (blocking: seconds the first time on a machine); returns ""
    when they are ready, else one line saying why not (a compiler failure, say)."""
    if not needs_preparing():
        return ""
    try:
        engine.kernels.prepare()
    except Exception as error:  # any failure of the compiler becomes the run's one-line error
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
        return f"the compiled kernels could not be prepared ({detail})"
    return ""
