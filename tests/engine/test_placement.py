"""The pool's threads are kept off the core of the thread handing them work
(engine/ops/placement.py): which cores they get, when they are moved, and that the caller's
own cores are never touched."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from engine.ops import parallel, placement


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    before = parallel.get_num_threads()
    placement.forget()
    yield
    placement.forget()
    parallel.set_num_threads(before)


@pytest.fixture
def four_cores(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, frozenset[int]]]:
    """A caller on core 2 of cores {0, 1, 2, 3}; the affinity calls made are recorded."""
    calls: list[tuple[int, frozenset[int]]] = []
    monkeypatch.setattr(placement, "current_cpu", lambda: 2)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)

    def record(tid: int, cores: Any) -> None:
        calls.append((tid, frozenset(cores)))

    monkeypatch.setattr(os, "sched_setaffinity", record, raising=False)
    return calls


def test_workers_get_every_core_but_the_callers(
    four_cores: list[tuple[int, frozenset[int]]],
) -> None:
    placement.keep_off_caller([101, 102])
    assert four_cores == [(101, frozenset({0, 1, 3})), (102, frozenset({0, 1, 3}))]


def test_a_worker_is_moved_only_when_the_caller_has_moved(
    four_cores: list[tuple[int, frozenset[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    placement.keep_off_caller([101])
    placement.keep_off_caller([101])
    assert len(four_cores) == 1
    monkeypatch.setattr(placement, "current_cpu", lambda: 0)
    placement.keep_off_caller([101])
    assert four_cores[-1] == (101, frozenset({1, 2, 3}))


def test_the_caller_and_unknown_threads_are_never_moved(
    four_cores: list[tuple[int, frozenset[int]]],
) -> None:
    placement.keep_off_caller([0, -1])  # 0 would mean the calling thread itself
    assert four_cores == []


def test_nothing_is_moved_for_a_caller_held_to_one_core(
    four_cores: list[tuple[int, frozenset[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {2}, raising=False)
    placement.keep_off_caller([101])
    assert four_cores == []


def test_nothing_is_moved_where_the_core_is_unknown(
    four_cores: list[tuple[int, frozenset[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(placement, "current_cpu", lambda: None)
    placement.keep_off_caller([101])
    assert four_cores == []


def test_a_thread_that_cannot_be_moved_is_left_and_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(placement, "current_cpu", lambda: 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    tries: list[int] = []

    def refuse(tid: int, cores: Any) -> None:
        tries.append(tid)
        raise ProcessLookupError(tid)

    monkeypatch.setattr(os, "sched_setaffinity", refuse, raising=False)
    placement.keep_off_caller([101])
    placement.keep_off_caller([101])
    assert tries == [101, 101]


def test_nothing_is_moved_where_the_cores_cannot_be_read(
    four_cores: list[tuple[int, frozenset[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(pid: int) -> set[int]:
        raise PermissionError(pid)

    monkeypatch.setattr(os, "sched_getaffinity", refuse, raising=False)
    placement.keep_off_caller([101])
    assert four_cores == []


@pytest.mark.skipif(
    placement.current_cpu() is None or parallel.usable_cores() < 2,
    reason="needs Linux and two usable cores",
)
def test_a_hand_off_keeps_the_worker_off_the_callers_core() -> None:
    """For real: the worker that runs a part may use every core of the caller's but one, and
    the caller's own cores are unchanged."""
    parallel.set_num_threads(2)
    mine = os.sched_getaffinity(0)
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[int, set[int]] = {}

    def part(p: int) -> None:
        seen[p] = os.sched_getaffinity(0)
        barrier.wait()  # both parts at once: one of them on the worker

    parallel.for_parts(part, 2)
    assert os.sched_getaffinity(0) == mine
    worker = [cores for cores in seen.values() if cores != mine]
    assert len(worker) == 1 and len(mine - worker[0]) == 1 and worker[0] < mine
