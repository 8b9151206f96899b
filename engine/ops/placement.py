"""Keeping the engine's pool threads off the core of the thread that hands them work.

Linux often wakes a thread on the core of the thread that woke it (they may share data in its
caches), and an idle core can take tens of milliseconds to pull one of the two away. On a 2-core
machine that is the split mode's whole gain lost: after a 0.2 s pause the LSTM's two batch parts
ran on one core for the first five training steps (10 ms each, the one-thread time, against 6.3
after; benchmarks/RESULTS.md). So before each hand-off (:func:`engine.ops.parallel.for_parts`)
the pool's threads are allowed every core the caller may use except the one it runs on now. The
caller's own affinity is never changed, and a worker's is set again only when the caller has
moved since the last hand-off (one system call). Where the system cannot tell a thread's core
(not Linux), nothing is done.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable

__all__ = ["current_cpu", "forget", "keep_off_caller"]

#: The cores each pool thread (by native id) was last allowed.
_allowed: dict[int, frozenset[int]] = {}
_lock = threading.Lock()


@functools.cache
def _sched_getcpu() -> Callable[[], int] | None:
    """The C library's ``sched_getcpu`` where threads' cores can be read and set, else None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        import ctypes

        getcpu = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.restype, getcpu.argtypes = ctypes.c_int, []
    return getcpu


def current_cpu() -> int | None:
    """The core the calling thread runs on now (None where the system cannot tell)."""
    getcpu = _sched_getcpu()
    if getcpu is None:
        return None
    cpu = getcpu()
    return cpu if cpu >= 0 else None


def keep_off_caller(thread_ids: Iterable[int]) -> None:
    """Allow the threads ``thread_ids`` (native ids) every core the calling thread may use but
    the one it runs on now; nothing when that leaves none (a caller held to one core). A thread
    that has ended or may not be moved keeps its cores."""
    cpu = current_cpu()
    if cpu is None:
        return
    try:
        others = frozenset(os.sched_getaffinity(0) - {cpu})
    except OSError:  # a sandbox that refuses the call
        return
    if not others:
        return
    with _lock:  # callers on other cores set the same threads: what is kept must be what is set
        for tid in thread_ids:
            if tid <= 0 or _allowed.get(tid) == others:  # 0 would be the calling thread itself
                continue
            try:
                os.sched_setaffinity(tid, others)
            except OSError:
                continue
            _allowed[tid] = others


def forget() -> None:
    """Forget the threads placed so far (a forked child starts a pool of its own)."""
    global _lock
    _allowed.clear()
    _lock = threading.Lock()  # a fork may have copied it held
