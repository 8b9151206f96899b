"""After training: the results, try-it and runs docks, Run > Evaluate, and the run history.

``install(main_window)`` adds them after the training room; it returns the
:class:`ResultsRoom` and sets ``main_window.results_room``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from app.graph.compile import Program, compile_document
from app.graph.document import EventKind, GraphDocument
from app.graph.errors import GraphError
from app.graph.kernels import PREPARING, needs_preparing
from app.graph.mutations import Batch, SetSetting
from app.graph.runs import RunRecord, append_run, fingerprint
from app.ui.results.evaluator import EVALUATION_ERRORS, Evaluator, Scored, private_copy
from app.ui.results.recording import EditorRecorder, TakenRun
from app.ui.results.results_panel import ResultsPanel
from app.ui.results.runs_overlay import RunOverlay
from app.ui.results.runs_panel import RunsPanel
from app.ui.results.tryit import TryItPanel
from app.ui.results.weights_state import WeightsState
from app.ui.training.run_actions import EVALUATE_KEY

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

__all__ = ["ResultsRoom", "install"]


class ResultsRoom(QObject):
    """Keeps the three docks in step with the window's document, weights and runs.

    ``evaluated`` is emitted with the :class:`Evaluation` shown, or None when an evaluation
    was refused or failed (the dock says why).
    """

    evaluated = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("resultsRoom")
        self.window = window
        self.holder = window.holder
        self.training = window.training
        self._compiled: tuple[int, int, Program] | None = None
        self._hash: tuple[GraphDocument, str | None] | None = None  # fingerprint until an edit
        self.pending: list[RunRecord] = []
        self.results = ResultsPanel(self.program)
        self.tryit = TryItPanel(self.program)
        self.runs = RunsPanel(self._fingerprint)
        self.docks = self._add_docks()
        self.overlay = RunOverlay(self.training.loss_plot)
        self.recorder = EditorRecorder(window, self._on_run_recorded)
        self.weights = WeightsState(window, self.recorder.steps_seen, self._on_weights_loaded)
        self.action = self._add_action()
        self.evaluator = Evaluator(self)
        self._path = self._graph_path()
        self._connect()
        self.runs.load(self._path)

    # -- construction -------------------------------------------------------------------------
    def _add_docks(self) -> dict[str, QDockWidget]:
        window = self.window
        bottom, right = (
            Qt.DockWidgetArea.BottomDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        docks = {
            "results": window.add_dock("results", "Results", self.results, bottom),
            "runs": window.add_dock("runs", "Runs", self.runs, bottom),
            "tryIt": window.add_dock("tryIt", "Try it", self.tryit, right),
        }
        window.docks.update(docks)
        if QSettings().value("windowState"):  # the saved layout, restored after install, wins
            return docks  # (tabifying first would leave stray tab bars behind the restore)
        loss = window.docks.get("lossPlotDock")
        if loss is not None:
            window.tabifyDockWidget(loss, docks["results"])
            window.tabifyDockWidget(docks["results"], docks["runs"])
            loss.raise_()
        tensor = window.docks.get("tensorViewDock")
        if tensor is not None:
            window.tabifyDockWidget(tensor, docks["tryIt"])
        inspector = window.docks.get("inspectorDock")
        if inspector is not None:
            inspector.raise_()
        return docks

    def _add_action(self) -> QAction:
        action = QAction("&Evaluate", self.window)
        action.setObjectName("actionEvaluate")
        action.setShortcut(QKeySequence(EVALUATE_KEY))
        action.setStatusTip("Score the trained weights on the validation split (Results dock)")
        action.triggered.connect(lambda: self.evaluate_now())
        self.window.menu_run.addSeparator()
        self.window.menu_run.addAction(action)
        self.window.addAction(action)
        self.window.actions_by_name["actionEvaluate"] = action
        return action

    def _connect(self) -> None:
        self.training.run_ended.connect(self._on_run_ended)
        self.holder.replaced.connect(self._on_document_replaced)
        self.holder.file_changed.connect(self._on_file_changed)
        self.holder.changed.connect(self._on_document_event)
        self.results.evaluate_requested.connect(self.evaluate_now)
        self.evaluator.scored.connect(self._on_scored)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._flush)
        self.runs.overlay_changed.connect(self.overlay.show_runs)
        self.runs.restore_requested.connect(self.restore_settings)
        self.runs.message.connect(self.window.show_message)

    # -- the trained model --------------------------------------------------------------------
    def program(self) -> Program | None:
        """The compiled graph with its trained (or loaded) weights; None while training, when
        there are none, or after a model edit."""
        training = self.training
        if training.is_training():
            return None
        keeper = training.sessions
        if keeper.session is not None:
            return None if keeper.model_changed else keeper.session.program
        if not keeper.loaded:
            return None
        key = (id(self.window.document), id(keeper.loaded))
        if self._compiled is not None and self._compiled[:2] == key:
            return self._compiled[2]
        try:
            program = compile_document(self.window.document)
            program.load_state_dict(keeper.loaded)
        except EVALUATION_ERRORS:
            return None
        self._compiled = (*key, program)
        return program

    def evaluate_now(self, split: str = "") -> bool:
        """Evaluate the trained weights (Run > Evaluate) on a worker thread and show the
        results dock; the results follow when :attr:`evaluated` is emitted. False when there
        is nothing to evaluate (the dock says why)."""
        return self._evaluate(split or str(self.results.split.currentData()), None)

    def _evaluate(self, split: str, run: TakenRun | None) -> bool:
        """Start scoring ``split``; ``run`` (a finished run's record) gets the metrics."""
        self.docks["results"].show()
        self.docks["results"].raise_()
        program = self.program()
        if program is None:
            why = "a run is under way" if self.training.is_training() else "no trained weights"
            self._show_failure(f"Nothing to evaluate: {why}. Train the model first.", why)
            self.recorder.complete(run, None)
            return False
        try:
            private = private_copy(self.window.document, program)
        except EVALUATION_ERRORS as error:
            self._show_failure(f"Cannot evaluate: {error}")
            self.recorder.complete(run, None)
            return False
        part = "validation" if split == "val" else "training"
        busy = f"Evaluating on the {part} split…"
        if needs_preparing():  # the evaluator's thread prepares them first
            busy = f"{PREPARING} Then evaluating on the {part} split."
        self.results.show_busy(busy)
        self.evaluator.start(private, split, run)  # type: ignore[arg-type]
        return True

    def _show_failure(self, text: str, why: str = "") -> None:
        self.evaluator.forget()  # an evaluation still under way is older than this
        self.results.show_error(text)
        self.window.show_message(f"Nothing to evaluate: {why}" if why else text)
        self.evaluated.emit(None)

    def _on_scored(self, scored: Scored) -> None:
        """An evaluation finished (on the GUI thread): show it if it is still wanted."""
        self.recorder.complete(scored.context, scored.result)
        if scored.ticket != self.evaluator.ticket:
            return
        if scored.result is None:
            self._show_failure(f"Cannot evaluate: {scored.error}")
            return
        self.results.show_evaluation(scored.result)
        self.evaluated.emit(scored.result)

    def evaluating(self) -> bool:
        """Whether an evaluation is still running."""
        return self.evaluator.busy()

    def wait_until_evaluated(self, timeout_ms: int = 60_000) -> bool:
        """Wait for the evaluations under way and deliver their results (scripts, tests);
        returns whether none is left running."""
        self.evaluator.join(timeout_ms / 1000)
        QCoreApplication.sendPostedEvents(self.evaluator)
        return not self.evaluator.pending()

    def _flush(self) -> None:
        """The application is quitting: let a run's pending record get its metrics."""
        self.wait_until_evaluated(10_000)

    # -- events ---------------------------------------------------------------------------------
    def _on_run_ended(self) -> None:
        self.overlay.refresh_legend()  # a new run rebuilt the plot's own legend
        run = self.recorder.take()
        if self.program() is not None:
            self._evaluate(str(self.results.split.currentData()), run)
        else:
            self.recorder.complete(run, None)
        self._refresh_tryit()

    def _refresh_tryit(self) -> None:
        """Rebuild the try-it dock; when it will run the model and the compiled kernels are not
        ready, after they are (prepared off the GUI thread, the status bar saying so)."""
        if self.program() is not None and not self.training.kernels.ready(self._refresh_tryit):
            return
        self.tryit.refresh()

    def _on_run_recorded(self, record: RunRecord, path: Path | None, current: bool) -> None:
        """Append ``record`` to the history of ``path`` (kept until the first save when the
        graph has no file yet); ``current`` is False for a graph replaced since its run."""
        if path is None:
            if current:
                self.pending.append(record)  # written beside the graph when it is first saved
            return
        try:
            append_run(path, record)
        except OSError as error:
            self.window.show_message(f"The run was not recorded: {error}")
        if current:
            self.runs.reload()

    def _on_weights_loaded(self) -> None:
        """Weights came with an opened graph: try-it can use them now."""
        self._compiled = None
        self._refresh_tryit()

    def _on_document_replaced(self) -> None:
        self.evaluator.forget()  # the old graph's scores are not shown (its run is recorded)
        self._compiled = None
        self._hash = None
        self.pending = []
        self.results.clear()
        self._path = self._graph_path()
        self.runs.load(self._path)
        self._refresh_tryit()

    def _on_document_event(self, event: Any) -> None:
        if event.kind is EventKind.NODE_MOVED:
            return
        self._compiled = None
        self._hash = None
        if event.kind is EventKind.SETTINGS_CHANGED:
            return
        self.runs.refresh_marks()
        if self.results.result is not None or self.evaluator.pending():
            self.evaluator.forget()  # scores of the model before the edit are not shown
            self.results.clear("The model was edited since these results; train it again.")
            self._refresh_tryit()

    def _on_file_changed(self) -> None:
        """Saved (perhaps under a new name): the history follows the file."""
        path = self._graph_path()
        if path is not None and self.pending:
            for record in self.pending:
                try:
                    append_run(path, record)
                except OSError as error:
                    self.window.show_message(f"The run was not recorded: {error}")
            self.pending = []
            self._path = None
        if path != self._path:
            self._path = path
            self.runs.load(path)
        else:
            self.runs.reload()  # the "edited since" column

    def _graph_path(self) -> Path | None:
        path: Path | None = self.holder.path
        return path

    def _fingerprint(self) -> str | None:
        """The document's fingerprint, computed once between edits."""
        document = self.window.document
        if self._hash is None or self._hash[0] is not document:
            try:
                self._hash = (document, fingerprint(document))
            except (GraphError, ValueError, TypeError):
                self._hash = (document, None)
        return self._hash[1]

    def restore_settings(self, run: RunRecord) -> None:
        """Put ``run``'s training settings back, as one undoable edit."""
        current = self.window.document.training
        changes = tuple(
            SetSetting(name, value)
            for name, value in run.settings.items()
            if hasattr(current, name) and getattr(current, name) != value
        )
        if not changes:
            self.window.show_message(f"The settings already are those of '{run.name}'")
            return
        refused = self.window.editor.push(Batch(changes, f"Restore Settings of Run '{run.name}'"))
        if refused is None:
            self.window.show_message(f"Restored the settings of '{run.name}'")


def install(window: MainWindow) -> ResultsRoom:
    """Add the results, try-it and runs docks and Run > Evaluate to ``window``; the room's
    weights become the file controller's weights keeper."""
    room = ResultsRoom(window)
    window.files.weights_keeper = room.weights
    return room
