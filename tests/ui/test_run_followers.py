"""Whatever follows a run (the run recorder, the weights' saved state) is connected to its
worker before the worker's thread starts: a run that is over before the GUI thread gets the CPU
back (a small graph on a loaded machine) is still recorded and still marks the weights unsaved."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction

from app.graph.runs import load_runs
from app.ui.training import controller

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_run_finished_before_the_gui_thread_resumes_is_recorded(
    qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = controller.start_worker

    def start_and_finish(worker: Any) -> Any:  # the GUI thread loses the CPU for the whole run
        thread = real_start(worker)
        assert thread.wait(120_000)
        return thread

    monkeypatch.setattr(controller, "start_worker", start_and_finish)
    path = tmp_path / "spiral.nodegrad"
    shutil.copy(EXAMPLES / "spiral.nodegrad", path)
    window = make_window(path)
    window.editor.set_setting("epochs", 1)
    with qtbot.waitSignal(window.training.run_ended, timeout=120_000):
        window.findChild(QAction, "actionRun").trigger()
    assert window.results_room.wait_until_evaluated()
    assert [run.name for run in load_runs(path).runs] == ["run 1"]
    assert window.isWindowModified()  # trained weights not saved yet


def test_a_worker_thread_that_cannot_start_leaves_the_editor_idle(
    make_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(worker: Any) -> Any:
        raise RuntimeError("no thread")

    monkeypatch.setattr(controller, "start_worker", refuse)
    window = make_window(EXAMPLES / "xor.nodegrad")
    with pytest.raises(RuntimeError, match="no thread"):
        window.training.run()
    assert not window.training.is_training() and window.training.worker is None
    assert window.findChild(QAction, "actionRun").isEnabled()
    assert not window.findChild(QAction, "actionStop").isEnabled()
