"""Large element-wise work on several CPU threads: the same NumPy code on contiguous chunks.

NumPy runs each ufunc on one core but releases the GIL inside its loops, so the rows of a big
array can be processed by two Python threads at once. :func:`for_rows` splits ``range(rows)``
into contiguous blocks and runs ``body(lo, hi)`` on each, the calling thread and a persistent
pool claiming the next block whenever they are free; :func:`for_parts` runs independent pieces
of work (say, one group of parameters each) the same way. Results are bit for bit those of one call
over everything, as long as a body only combines values within its own rows (element-wise
maths, reductions along a row of at most ``numpy.getbufsize()`` elements: NumPy reduces longer
rows in buffer-sized pieces whose order depends on the rows around; see :func:`row_safe`); a
reduction *across* rows must stay outside.

The thread count is :func:`get_num_threads` (:func:`set_num_threads`); with one thread, or work
under :data:`MIN_ELEMENTS` elements, the body runs inline, with no pool involved. CuPy arrays
never come here. With more than one thread BLAS is held to one thread and the large matrix
products are split over the same pool (:mod:`engine.ops.gemm`). Before each hand-off the pool's
threads are kept off the caller's core (:mod:`engine.ops.placement`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

import numpy as np

from engine.ops import placement

__all__ = [
    "BLOCK_ELEMENTS",
    "MIN_ELEMENTS",
    "active",
    "blas_limited",
    "for_parts",
    "for_rows",
    "get_num_threads",
    "row_safe",
    "row_view",
    "set_num_threads",
    "splits",
    "usable_cores",
]

#: Below this many elements a split costs more than it saves (handing a block to a waiting
#: thread and waiting for it take some 20-60 us here; GELU on 65,536 elements broke even on
#: two threads, on 262,144 took 0.66 of the time; see benchmarks/RESULTS.md).
MIN_ELEMENTS = 1 << 17
#: The size of one block of rows (64K elements: GELU ran no slower in such blocks than whole).
BLOCK_ELEMENTS = 1 << 16


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _default_threads() -> int:
    """``NODEGRAD_NUM_THREADS`` when it is a positive integer (at most the cores this process
    may use), else 1: splitting is opt-in (see :func:`set_num_threads` for why)."""
    value = os.environ.get("NODEGRAD_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), usable_cores())
    return 1


_threads = 1
_blas_limit: Any = None  # threadpoolctl's limit while BLAS is held to one thread
_queues: list[SimpleQueue[_Job | None]] = []
_thread_ids: list[int] = []  # the pool threads' native ids, in the order of _queues
_lock = threading.Lock()
_local = threading.local()


def _forget_pool() -> None:
    """In a forked child: the parent's workers do not exist there, so start afresh."""
    global _lock, _local
    _queues.clear()
    _thread_ids.clear()
    placement.forget()
    _lock = threading.Lock()
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def get_num_threads() -> int:
    """The number of threads large element-wise work is split over (1: never split)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Split large element-wise work and large matrix products over ``n`` threads (1, the
    default, turns splitting off).

    With ``n`` > 1 every BLAS library loaded (NumPy's OpenBLAS) is held to **one** thread, and
    the engine's large products are split over its own ``n`` threads instead
    (:mod:`engine.ops.gemm`): one BLAS thread never spins waiting for the next product, so
    both cores can run both products and element-wise work. Going back to 1 restores the BLAS
    thread count that was in force before. A product made outside the engine (``a @ b`` on
    NumPy arrays in your own code) then runs on one BLAS thread.

    The default is 1 unless ``NODEGRAD_NUM_THREADS`` is set: on two cores the split mode took
    0.65 of the default's step on a char LSTM (whose batch it cuts into parts, one per thread)
    and about the same on a small transformer, but 1.1-1.5x on MLPs, the GRU and the book's
    LSTM cell, whose small and medium products OpenBLAS's own threads run faster (measured in
    benchmarks/RESULTS.md); it also holds up where another process takes a core.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    global _threads, _blas_limit
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    if n > 1 and _blas_limit is None:
        from threadpoolctl import threadpool_limits

        _blas_limit = threadpool_limits(limits=1, user_api="blas")
    elif n == 1 and _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None
    _threads = n


def blas_limited() -> bool:
    """Whether BLAS is held to one thread by :func:`set_num_threads`."""
    return _blas_limit is not None


def active() -> bool:
    """Whether work may be split here: more than one thread, and not already inside a part."""
    return _threads > 1 and not getattr(_local, "in_pool", False)


def splits(elements: int) -> bool:
    """Whether work of ``elements`` elements is split over threads (more than one thread and
    at least :data:`MIN_ELEMENTS`); callers keep their one-call code for the other case."""
    return elements >= MIN_ELEMENTS and active()


def row_safe(a: Any) -> bool:
    """Whether ``a`` is a NumPy array whose last axis is short enough for NumPy to reduce a
    block of rows exactly as it reduces them within the whole array (``numpy.getbufsize()``)."""
    return type(a) is np.ndarray and a.ndim > 1 and a.shape[-1] <= np.getbufsize()


class _Job:
    """Parts ``0..parts-1`` of one call, claimed one at a time by whichever thread is free.

    A thread that gets little of a core (on a machine where BLAS's workers spin on the others)
    then simply claims fewer parts, instead of holding up the call with a fixed share.
    """

    def __init__(self, body: Callable[[int], None], parts: int) -> None:
        self.body, self.parts = body, parts
        self.next = 0
        self.helping = 0  # parts claimed by pool threads and not finished yet
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.finished = threading.Condition(self.lock)

    def claim(self, helper: bool) -> int | None:
        """The next unclaimed part, or None when all are claimed."""
        with self.lock:
            part = self.next
            if part >= self.parts:
                return None
            self.next = part + 1
            if helper:
                self.helping += 1
            return part

    def run(self, helper: bool) -> None:
        """Claim and run parts until none is left (errors kept for the caller)."""
        while (part := self.claim(helper)) is not None:
            try:
                self.body(part)
            except BaseException as exc:  # handed to the caller, which raises it
                with self.lock:
                    self.error = self.error or exc
            finally:
                if helper:
                    with self.lock:
                        self.helping -= 1
                        if not self.helping:
                            self.finished.notify()

    def wait(self) -> None:
        """Wait until every part a pool thread claimed has finished."""
        with self.lock:
            while self.helping:
                self.finished.wait()


def _worker(queue: SimpleQueue[_Job | None]) -> None:
    _local.in_pool = True
    while True:
        job = queue.get()
        if job is None:
            return
        job.run(helper=True)
        del job  # an idle worker must not keep the last job's arrays alive


def _pool(size: int) -> list[SimpleQueue[_Job | None]]:
    """The queues of ``size`` persistent worker threads (started on first need)."""
    if len(_queues) < size:
        with _lock:
            while len(_queues) < size:
                queue: SimpleQueue[_Job | None] = SimpleQueue()
                thread = threading.Thread(
                    target=_worker,
                    args=(queue,),
                    name="nodegrad-elementwise",
                    daemon=True,
                )
                thread.start()  # returns once the thread runs, its native id known
                _thread_ids.append(thread.native_id or -1)  # -1: no id on this system
                _queues.append(queue)
    return _queues


def for_parts(body: Callable[[int], None], parts: int) -> None:
    """Run ``body(0)``, ..., ``body(parts - 1)`` on up to :func:`get_num_threads` threads
    (inline when one thread, one part, or when called from inside a part).

    Each thread claims the next unclaimed part when it is free, the calling thread included, so
    a thread that gets little CPU does little of the work. Exceptions raised by a part are
    raised here once every started part has finished.
    """
    if parts <= 1 or _threads == 1 or getattr(_local, "in_pool", False):
        for part in range(parts):
            body(part)
        return
    job = _Job(body, parts)
    helpers = min(_threads, parts) - 1
    queues = _pool(helpers)
    placement.keep_off_caller(_thread_ids[:helpers])  # see engine.ops.placement
    for queue in queues[:helpers]:
        queue.put(job)
    _local.in_pool = True  # a split inside a part runs inline, on whichever thread
    try:
        job.run(helper=False)
    finally:
        _local.in_pool = False
    job.wait()
    if job.error is not None:
        raise job.error


def for_rows(body: Callable[[int, int], None], rows: int, elements: int) -> None:
    """Run ``body(lo, hi)`` over contiguous blocks of ``range(rows)`` covering it, on the
    engine's threads when ``elements`` (the work's size) reaches :data:`MIN_ELEMENTS`, else
    ``body(0, rows)`` inline. Blocks hold about :data:`BLOCK_ELEMENTS` elements (at least one
    per thread), claimed by whichever thread is free."""
    if min(_threads, rows) <= 1 or not splits(elements):
        body(0, rows)
        return
    n = max(min(_threads, rows), min(rows, elements // BLOCK_ELEMENTS))
    bounds = [rows * i // n for i in range(n + 1)]
    for_parts(lambda i: body(bounds[i], bounds[i + 1]), n)


def row_view(a: Any) -> Any:
    """``a`` as a 2-d (rows, last axis) view (1-d arrays as one column; 0-d as one row)."""
    if a.ndim == 2:
        return a
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a.reshape(-1, a.shape[-1])


set_num_threads(_default_threads())
