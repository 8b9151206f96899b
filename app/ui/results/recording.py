"""Records each editor run (settings, fingerprint, epochs, final metrics) as it happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from app.graph.evaluation import Evaluation
from app.graph.metrics import TrainingFinished
from app.graph.runs import RunRecord, RunRecorder, load_runs, next_name

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


#: ``on_record(record, graph path or None, still the window's document)``.
OnRecord = Callable[[RunRecord, Path | None, bool], None]


class EditorRecorder(QObject):
    """Follows the worker of every run the window starts (Run, Continue) and hands the
    finished :class:`RunRecord` to ``on_record(record, graph path, still the window's
    document)`` when :meth:`complete` is called."""

    def __init__(self, window: MainWindow, on_record: OnRecord) -> None:
        super().__init__(window)
        self.window = window
        self.on_record = on_record
        self.current: RunRecorder | None = None
        self._worker: Any = None
        self._events = 0
        # Stop becomes enabled when a run starts, however it was started (menu, toolbar,
        # shortcut, script); the worker exists by then and its thread has not started yet.
        window.training.actions.stop.enabledChanged.connect(self._on_started)

    def _on_started(self, enabled: bool = True) -> None:
        """A run began: follow its worker's events."""
        worker = self.window.training.worker
        if not enabled or worker is None or worker is self._worker:
            return
        self._worker = worker
        self._events = 0
        self.current = RunRecorder(self.window.document, source="editor")
        worker.steps_ready.connect(self._on_steps)
        worker.event_ready.connect(self._on_event)

    def steps_seen(self) -> int:
        """Events of the run under way so far (0 when none is recorded)."""
        return self._events if self.current is not None else 0

    def _on_steps(self, batch: list[Any]) -> None:
        if self.current is not None:
            for event in batch:
                self.current.observe(event)
            self._events += len(batch)

    def _on_event(self, event: object) -> None:
        if self.current is not None and isinstance(event, TrainingFinished):
            self.current.observe(event)

    def take(self) -> TakenRun | None:
        """The run ended: take its recorder (the next run gets a fresh one); None when the
        run never took a step (it could not start) and so is not recorded."""
        recorder, self.current, self._worker = self.current, None, None
        if recorder is None or self._events == 0:
            return None
        room = self.window.results_room
        path = room._graph_path() if room is not None else None
        return TakenRun(recorder, self.window.document, path)

    def complete(self, run: TakenRun | None, result: Evaluation | None) -> RunRecord | None:
        """Build ``run``'s record with ``result``'s metrics (None: the run's own only) and
        hand it on with the graph file it belongs to; nothing for None or a run already
        completed. A run whose graph was replaced meanwhile (Open, New) still goes to the
        file it was trained from."""
        if run is None or run.done:
            return None
        run.done = True
        final: dict[str, float | None] = {}
        if result is not None:
            final = {f"{result.split}_{k}": v for k, v in result.metrics.items()}
        room = self.window.results_room
        same = run.document is self.window.document
        path = (room._graph_path() if room is not None else None) if same else run.path
        history = load_runs(path) if path is not None else None
        pending = len(room.pending) if room is not None and same else 0
        name = next_name(history) if history is not None else f"run {pending + 1}"
        record = run.recorder.record(name, final)
        self.on_record(record, path, same)
        return record


@dataclass
class TakenRun:
    """A finished run's recorder, waiting for the evaluation that completes its record, with
    the document it trained and that document's file then."""

    recorder: RunRecorder
    document: object
    path: Path | None
    done: bool = False
