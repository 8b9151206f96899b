"""The training worker on plain iterators: batching, pause, stop, errors, thread shutdown."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from app.ui.training.worker import TrainingWorker, start_worker, stop_and_wait


@dataclass(frozen=True)
class Step:
    i: int


@dataclass(frozen=True)
class Done:
    reason: str


@dataclass(frozen=True)
class Epoch:
    n: int


def counting(n: int, delay: float = 0.0):
    def source(stop: threading.Event):
        for i in range(n):
            if stop.is_set():
                yield Done("stopped")
                return
            time.sleep(delay)
            yield Step(i)
        yield Done("finished")

    return source


def collect(worker: TrainingWorker):
    """Record what the worker emits. The lambdas run in the worker thread (no receiver object):
    tests poll ``got`` with waitUntil rather than waitSignal, whose loop can miss a signal
    emitted from another thread just before it starts waiting."""
    got: dict[str, list] = {"steps": [], "batches": [], "events": [], "errors": []}
    worker.steps_ready.connect(
        lambda batch: (got["steps"].extend(batch), got["batches"].append(len(batch)))
    )
    worker.event_ready.connect(got["events"].append)
    worker.finished.connect(got["errors"].append)
    return got


def test_every_step_arrives_in_few_batches(qtbot) -> None:
    worker = TrainingWorker(counting(5000), batched=(Step,))
    got = collect(worker)
    thread = start_worker(worker)
    qtbot.waitUntil(lambda: bool(got["errors"]), timeout=20_000)
    assert thread.wait(5000)
    assert got["events"] == [Done("finished")]
    assert [s.i for s in got["steps"]] == list(range(5000))
    assert len(got["batches"]) < 5000 / 10  # throttled, not one signal per step
    assert got["errors"] == [""]


def test_a_rare_batched_event_is_not_held_until_the_next_one(qtbot) -> None:
    """Epoch metrics are batched with the steps; one that comes after a quiet spell (slow
    validation, slow steps) is delivered at once, not when the next event happens."""
    release = threading.Event()

    def source(stop: threading.Event):
        for i in range(5):  # slow steps: each is sent as it comes
            time.sleep(0.06)
            yield Step(i)
        time.sleep(0.01)  # a quick validation: within the batching interval of the last send
        yield Epoch(0)
        release.wait(20)  # the next step is far away
        yield Step(5)
        yield Done("finished")

    worker = TrainingWorker(source, batched=(Step, Epoch))
    got = collect(worker)
    thread = start_worker(worker)
    qtbot.waitUntil(lambda: Epoch(0) in got["steps"], timeout=5_000)
    assert not release.is_set()
    release.set()
    qtbot.waitUntil(lambda: bool(got["errors"]), timeout=10_000)
    assert thread.wait(5000)
    assert got["steps"] == [*(Step(i) for i in range(5)), Epoch(0), Step(5)]
    assert got["events"] == [Done("finished")]


def test_pause_holds_and_stop_ends(qtbot) -> None:
    worker = TrainingWorker(counting(100_000, delay=0.001), batched=(Step,))
    got = collect(worker)
    thread = start_worker(worker)
    qtbot.waitUntil(lambda: len(got["steps"]) > 0, timeout=10_000)
    worker.pause()
    assert worker.paused
    time.sleep(0.2)
    qtbot.wait(100)
    held = len(got["steps"])
    time.sleep(0.2)
    qtbot.wait(100)
    assert len(got["steps"]) <= held + 1
    worker.stop()  # also wakes the paused worker
    qtbot.waitUntil(lambda: bool(got["errors"]), timeout=10_000)
    assert thread.wait(5000)
    assert got["events"] == [Done("stopped")]
    assert len(got["steps"]) < 100_000


def test_a_failing_source_reports_its_error(qtbot) -> None:
    def source(stop):
        yield Step(0)
        raise ValueError("node 'x' broke")

    worker = TrainingWorker(source, batched=(Step,))
    got = collect(worker)
    thread = start_worker(worker)
    qtbot.waitUntil(lambda: bool(got["errors"]), timeout=10_000)
    assert thread.wait(5000)
    assert got["errors"] == ["ValueError: node 'x' broke"]
    assert got["steps"] == [Step(0)]


def test_stop_and_wait_returns_promptly_while_paused(qtbot) -> None:
    worker = TrainingWorker(counting(100_000, delay=0.001), batched=(Step,))
    thread = start_worker(worker)
    qtbot.wait(50)
    worker.pause()
    assert stop_and_wait(worker, thread)
    assert thread.isFinished()
