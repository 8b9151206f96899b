"""Large element-wise work on several CPU threads: the same NumPy code on contiguous chunks.

NumPy runs each ufunc on one core but releases the GIL inside its loops, so the rows of a big
array can be processed by two Python threads at once. :func:`for_rows` splits ``range(rows)``
into one contiguous block per thread and runs ``body(lo, hi)`` on each, the calling thread
taking the first block and a persistent pool the others; :func:`for_parts` runs independent
pieces of work (say, one group of parameters each). Results are bit for bit those of one call
over everything, as long as a body only combines values within its own rows (element-wise
maths, reductions along a row of at most ``numpy.getbufsize()`` elements: NumPy reduces longer
rows in buffer-sized pieces whose order depends on the rows around; see :func:`row_safe`); a
reduction *across* rows must stay outside.

The thread count is :func:`get_num_threads` (:func:`set_num_threads`); with one thread, or work
under :data:`MIN_ELEMENTS` elements, the body runs inline, with no pool involved. CuPy arrays
never come here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from queue import SimpleQueue
from typing import Any

import numpy as np

__all__ = [
    "MIN_ELEMENTS",
    "balanced",
    "for_parts",
    "for_rows",
    "get_num_threads",
    "row_safe",
    "row_view",
    "set_num_threads",
    "splits",
]

#: Below this many elements a split costs more than it saves (handing a block to a waiting
#: thread and waiting for it take some 20-60 us here; GELU on 65,536 elements broke even on
#: two threads, on 262,144 took 0.66 of the time; see benchmarks/RESULTS.md).
MIN_ELEMENTS = 1 << 17

Task = tuple[Callable[[int], None], int, "SimpleQueue[BaseException | None]"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _default_threads() -> int:
    """``NODEGRAD_NUM_THREADS`` when it is a positive integer (at most the cores this process
    may use), else 1: splitting is opt-in (see :func:`set_num_threads` for why)."""
    value = os.environ.get("NODEGRAD_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), _cores())
    return 1


_threads = _default_threads()
_queues: list[SimpleQueue[Task | None]] = []
_lock = threading.Lock()
_local = threading.local()


def _forget_pool() -> None:
    """In a forked child: the parent's workers do not exist there, so start afresh."""
    global _lock, _local
    _queues.clear()
    _lock = threading.Lock()
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def get_num_threads() -> int:
    """The number of threads large element-wise work is split over (1: never split)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Split large element-wise work over ``n`` threads (1, the default, turns splitting off).

    The default is 1 unless ``NODEGRAD_NUM_THREADS`` is set: OpenBLAS keeps its worker threads
    spinning for about 0.1 s after each product, so on a machine with as many cores as BLAS
    threads a second element-wise thread mostly competes with a spinning one; it pays when
    OpenBLAS's spin is short (``OPENBLAS_THREAD_TIMEOUT``, set before NumPy loads) or BLAS has
    fewer threads than the cores (measured in benchmarks/RESULTS.md). BLAS threads are not
    changed here.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _threads = n


def splits(elements: int) -> bool:
    """Whether work of ``elements`` elements is split over threads (more than one thread and
    at least :data:`MIN_ELEMENTS`); callers keep their one-call code for the other case."""
    return _threads > 1 and elements >= MIN_ELEMENTS and not getattr(_local, "in_pool", False)


def row_safe(a: Any) -> bool:
    """Whether ``a`` is a NumPy array whose last axis is short enough for NumPy to reduce a
    block of rows exactly as it reduces them within the whole array (``numpy.getbufsize()``)."""
    return type(a) is np.ndarray and a.ndim > 1 and a.shape[-1] <= np.getbufsize()


def _worker(queue: SimpleQueue[Task | None]) -> None:
    _local.in_pool = True
    while True:
        task = queue.get()
        if task is None:
            return
        body, part, done = task
        try:
            body(part)
            done.put(None)
        except BaseException as exc:  # handed to the caller, which raises it
            done.put(exc)


def _pool(size: int) -> list[SimpleQueue[Task | None]]:
    """The queues of ``size`` persistent worker threads (started on first need)."""
    if len(_queues) < size:
        with _lock:
            while len(_queues) < size:
                queue: SimpleQueue[Task | None] = SimpleQueue()
                threading.Thread(
                    target=_worker,
                    args=(queue,),
                    name="nodegrad-elementwise",
                    daemon=True,
                ).start()
                _queues.append(queue)
    return _queues


def for_parts(body: Callable[[int], None], parts: int) -> None:
    """Run ``body(0)``, ..., ``body(parts - 1)``, at once on up to :func:`get_num_threads`
    threads (inline when one thread, one part, or when called from inside a part).

    Exceptions raised by a part are raised here once every part has finished.
    """
    if parts <= 1 or _threads == 1 or getattr(_local, "in_pool", False):
        for part in range(parts):
            body(part)
        return
    queues = _pool(min(_threads, parts) - 1)
    done: SimpleQueue[BaseException | None] = SimpleQueue()
    handed = 0
    for part in range(1, parts):
        queues[(part - 1) % len(queues)].put((body, part, done))
        handed += 1
    error: BaseException | None = None
    try:
        body(0)
    except BaseException as exc:
        error = exc
    for _ in range(handed):
        failed = done.get()
        if error is None and failed is not None:
            error = failed
    if error is not None:
        raise error


def for_rows(body: Callable[[int, int], None], rows: int, elements: int) -> None:
    """Run ``body(lo, hi)`` over contiguous blocks of ``range(rows)`` covering it, one block per
    thread when ``elements`` (the work's size) reaches :data:`MIN_ELEMENTS`, else
    ``body(0, rows)`` inline."""
    n = min(_threads, rows)
    if n <= 1 or not splits(elements):
        body(0, rows)
        return
    bounds = [rows * i // n for i in range(n + 1)]
    for_parts(lambda i: body(bounds[i], bounds[i + 1]), n)


def balanced(sizes: Sequence[int], parts: int) -> list[list[int]]:
    """Indices of ``sizes`` in ``parts`` groups of about equal total (largest first, each to
    the lightest group); groups keep the indices in increasing order."""
    groups: list[list[int]] = [[] for _ in range(parts)]
    totals = [0] * parts
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        j = totals.index(min(totals))
        groups[j].append(i)
        totals[j] += sizes[i]
    return [sorted(g) for g in groups]


def row_view(a: Any) -> Any:
    """``a`` as a 2-d (rows, last axis) view (1-d arrays as one column; 0-d as one row)."""
    if a.ndim == 2:
        return a
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a.reshape(-1, a.shape[-1])
