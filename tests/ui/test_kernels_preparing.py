"""The editor says it prepares the compiled kernels while a worker thread loads or compiles them."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine.kernels
from app.graph.kernels import PREPARING

SHOTS = Path(os.environ.get("NODEGRAD_SHOTS", "/tmp/shots"))


def _blocking_prepare(
    monkeypatch: pytest.MonkeyPatch, fail: str = ""
) -> tuple[threading.Event, list[str]]:
    """Kernels unprepared until ``prepare`` (which waits for the returned event) ends; the
    list names the threads ``prepare`` ran on."""
    release, done, threads = threading.Event(), threading.Event(), []

    def prepare() -> None:
        threads.append(threading.current_thread().name)
        release.wait(30)
        if fail:
            raise RuntimeError(fail)
        done.set()

    monkeypatch.setattr(engine.kernels, "prepared", done.is_set)
    monkeypatch.setattr(engine.kernels, "prepare", prepare)
    return release, threads


def _initial_weights(window: Any) -> dict[str, np.ndarray]:
    """The weights the window's graph compiles with, as a loaded weights file would give."""
    from app.graph.compile import compile_document

    return {k: v.copy() for k, v in compile_document(window.document).state_dict().items()}


def test_the_status_bar_says_so_while_the_kernels_are_prepared(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, threads = _blocking_prepare(monkeypatch)
    ctrl = digits.training
    digits.document.set_setting("epochs", 1)
    digits.findChild(type(ctrl.actions.run), "actionRun").trigger()
    qtbot.waitUntil(lambda: digits.status_line.message == PREPARING, timeout=10_000)
    assert PREPARING in digits.statusBar().currentMessage()  # not elided at this width
    assert ctrl.is_training() and threads and threads[0] != threading.main_thread().name
    SHOTS.mkdir(parents=True, exist_ok=True)
    digits.grab().save(str(SHOTS / "preparing_kernels.png"))
    release.set()
    qtbot.waitUntil(lambda: not ctrl.is_training(), timeout=60_000)
    assert digits.results_room.wait_until_evaluated()
    assert "Preparing compiled kernels" not in digits.statusBar().currentMessage()
    assert ctrl.session is not None and ctrl.session.epochs_done == 1
    assert threads == [threads[0]]  # prepared once


def test_a_compiler_failure_is_a_one_line_message(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, _ = _blocking_prepare(monkeypatch, fail="LLVM ERROR: bad\nsecond line")
    release.set()
    ctrl = digits.training
    ctrl.run()
    qtbot.waitUntil(lambda: not ctrl.is_training(), timeout=30_000)
    expected = (
        "Cannot train: the compiled kernels could not be prepared (RuntimeError: LLVM ERROR: bad)"
    )
    assert digits.status_line.message == expected
    assert not digits.editor.is_locked() and ctrl.actions.run.isEnabled()


def test_a_step_waits_for_the_kernels_prepared_off_the_gui_thread(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, threads = _blocking_prepare(monkeypatch)
    ctrl = digits.training
    digits.findChild(type(ctrl.actions.run), "actionStepForward").trigger()
    qtbot.waitUntil(lambda: digits.status_line.message == PREPARING, timeout=10_000)
    assert not ctrl.steps.active and threads[0] != threading.main_thread().name
    ctrl.step_forward()  # asked again meanwhile: still one preparation, one step after it
    release.set()
    qtbot.waitUntil(lambda: ctrl.steps.active, timeout=30_000)
    assert "Preparing compiled kernels" not in digits.statusBar().currentMessage()
    assert ctrl.steps.stepper is not None and len(threads) == 1
    assert not ctrl.kernels.busy()


def test_try_it_runs_the_loaded_weights_once_the_kernels_are_ready(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _initial_weights(digits)
    release, _ = _blocking_prepare(monkeypatch)
    room = digits.results_room
    room.weights.set_weights(weights)
    qtbot.waitUntil(lambda: digits.status_line.message == PREPARING, timeout=10_000)
    assert room.tryit.program is None  # not run on the GUI thread before the kernels
    release.set()
    qtbot.waitUntil(lambda: room.tryit.program is not None, timeout=30_000)
    assert room.tryit.grid is not None  # the digits grid, its output computed
    assert "Preparing compiled kernels" not in digits.statusBar().currentMessage()


def test_a_failure_for_a_step_is_one_line_and_no_step(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, _ = _blocking_prepare(monkeypatch, fail="no compiler\nmore")
    release.set()
    ctrl = digits.training
    ctrl.step_forward()
    qtbot.waitUntil(lambda: not ctrl.kernels.busy(), timeout=10_000)
    qtbot.waitUntil(lambda: "Cannot run the model" in digits.status_line.message, timeout=10_000)
    assert digits.status_line.message == (
        "Cannot run the model: the compiled kernels could not be prepared "
        "(RuntimeError: no compiler)"
    )
    assert not ctrl.steps.active


def test_an_evaluation_says_it_prepares_the_kernels_first(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _initial_weights(digits)
    release, threads = _blocking_prepare(monkeypatch)
    room = digits.results_room
    room.weights.set_weights(weights)  # try-it waits for the kernels too
    assert room.evaluate_now("val")
    assert room.results.title.text() == (f"{PREPARING} Then evaluating on the validation split.")
    room.docks["results"].raise_()
    SHOTS.mkdir(parents=True, exist_ok=True)
    digits.grab().save(str(SHOTS / "preparing_kernels_evaluation.png"))
    assert all(name != threading.main_thread().name for name in threads)
    release.set()
    assert room.wait_until_evaluated()
    assert room.results.result is not None
    assert "Preparing compiled kernels" not in room.results.title.text()


def test_an_evaluation_whose_kernels_fail_says_why_in_one_line(
    qtbot, digits, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = _initial_weights(digits)
    release, _ = _blocking_prepare(monkeypatch, fail="no compiler\nmore")
    release.set()
    room = digits.results_room
    room.weights.set_weights(weights)
    qtbot.waitUntil(lambda: not digits.training.kernels.busy(), timeout=10_000)
    assert room.evaluate_now("val")
    assert room.wait_until_evaluated()
    assert room.results.result is None
    assert room.results.title.text() == (
        "Cannot evaluate: the compiled kernels could not be prepared (RuntimeError: no compiler)"
    )
