"""The training controller: Run, Continue, Pause, Stop and the step-through of the held document.

It owns the Session (built from the holder's document) and the worker thread iterating
``Session.train``; it turns the worker's signals into plot points, node colours, badges and
status text, and locks model editing while a run or a step-through is under way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, QTimer, Signal

from app.graph.document import DocumentEvent, EventKind
from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished
from app.graph.session import Session
from app.ui.kernel_gate import KernelGate
from app.ui.training.block_view import BlockView
from app.ui.training.canvas_overlay import CanvasOverlay
from app.ui.training.closing import CloseGuard
from app.ui.training.grad_plot import GradPlot
from app.ui.training.host import TrainingHost
from app.ui.training.live import LiveRun
from app.ui.training.loss_plot import LossPlot
from app.ui.training.run_actions import RunActions
from app.ui.training.sessions import (
    PREPARING_DATA,
    SESSION_ERRORS,
    EpochBudget,
    Preparing,
    SessionFailed,
    SessionKeeper,
    SessionReady,
    run_events,
)
from app.ui.training.stepping import StepThrough
from app.ui.training.summary import epochs_change_text, final_summary
from app.ui.training.tensor_data import TensorEntry
from app.ui.training.tensor_view import TensorView
from app.ui.training.worker import TrainingWorker, start_worker, stop_and_wait

TRAINING_LOCK = "training is running (Stop it to edit the graph)"
STEPPING_LOCK = "a step-through is under way (Reset Step to edit the graph)"


class Mode(enum.Enum):
    """What the controller is doing."""

    IDLE = "idle"
    TRAINING = "training"
    STEPPING = "stepping"


class TrainingController(QObject):
    """Runs training and the step-through of the held document.

    Editor-facing API: ``weights()`` (the trained weights to save beside the graph, or
    None), ``set_weights(d)`` (weights loaded with a graph: Continue starts from them),
    ``shutdown()`` (stop a run and join its thread; also done when the window closes).
    ``run_ended`` is emitted when a run is over and the controller idle again;
    ``wait_until_idle()`` waits for it in an event loop (scripts, benchmarks).
    """

    run_ended = Signal()

    def __init__(
        self,
        host: TrainingHost,
        actions: RunActions,
        loss_plot: LossPlot,
        grad_plot: GradPlot,
        tensor_view: TensorView,
    ) -> None:
        super().__init__(host.window)
        self.setObjectName("trainingController")
        self.host, self.holder, self.actions = host, host.holder, actions
        self.loss_plot, self.grad_plot, self.tensor_view = loss_plot, grad_plot, tensor_view
        self.blocks = BlockView(host.holder, host.scope)
        self.overlay = CanvasOverlay(host.holder, host.scene, host.view, self.blocks)
        self.steps = StepThrough(host.holder, host.scene, self.overlay, tensor_view)
        self.mode = Mode.IDLE
        self.sessions = SessionKeeper(self._message, lambda: self.holder.document)
        self.kernels = KernelGate(host.status, self)  # for work done on the GUI thread
        self._worker: TrainingWorker | None = None
        self._thread: QThread | None = None
        self.epochs = EpochBudget(0)
        self.live = LiveRun(
            host.holder, host.scene, loss_plot, grad_plot, self.overlay, actions.progress
        )
        self._finish: TrainingFinished | SessionFailed | None = None
        self._connect()
        self._update_actions()

    def _on_scope_changed(self) -> None:
        """The canvas opened another block (or went back): colours, flags, the stepped node
        and the gradient curves follow."""
        self.overlay.refresh()
        self.live.name_curves()

    def _connect(self) -> None:
        a = self.actions
        a.run.triggered.connect(self.run)
        a.continue_.triggered.connect(self.continue_training)
        a.pause.toggled.connect(self.set_paused)
        a.stop.triggered.connect(self.stop)
        a.step_forward.triggered.connect(self.step_forward)
        a.step_backward.triggered.connect(self.step_backward)
        a.reset_step.triggered.connect(self.reset_step)
        a.device.activated.connect(self._on_device_chosen)
        self.holder.changed.connect(self._on_document_event)
        self.holder.replaced.connect(self._on_document_replaced)
        self.blocks.on_change(self._on_scope_changed)
        self.host.scene.selectionChanged.connect(self._on_selection_changed)
        self._close_guard = CloseGuard(self.host.window, self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._sync_device()

    # -- weights with the document ------------------------------------------------------------
    def weights(self) -> dict[str, np.ndarray] | None:
        """The weights to save beside the graph: trained (or loaded) ones; None when there are
        none, training runs (unless held between steps, as while closing), or the model was
        edited since they were trained."""
        if self.mode is Mode.TRAINING and (self._worker is None or not self._worker.held):
            return None
        return self.sessions.weights()

    def set_weights(self, weights: dict[str, np.ndarray] | None) -> None:
        """Weights loaded with the graph: Continue Training and Step start from them."""
        self.sessions.loaded = dict(weights) if weights else None
        self._update_actions()

    @property
    def session(self) -> Session | None:
        """The session of the last run or step-through."""
        return self.sessions.session

    def is_training(self) -> bool:
        """Whether a run is under way (paused included)."""
        return self.mode is Mode.TRAINING

    def wait_until_idle(self, timeout_ms: int = 0) -> bool:
        """Run the event loop until the run under way ends (at most ``timeout_ms``; 0: no
        limit) and return whether it did. Returns at once when no run is under way."""
        if not self.is_training():
            return True
        loop = QEventLoop()
        self.run_ended.connect(loop.quit)
        if timeout_ms:
            QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.run_ended.disconnect(loop.quit)
        return not self.is_training()

    @property
    def worker(self) -> TrainingWorker | None:
        """The worker of the run under way."""
        return self._worker

    # -- run, continue, pause, stop -----------------------------------------------------------
    def run(self) -> None:
        """Train from scratch (fresh weights, cleared plots)."""
        self._start(fresh=True)

    def continue_training(self) -> None:
        """Train the settings' epochs more, from the current weights."""
        self._start(fresh=False)

    def _start(self, fresh: bool) -> None:
        if self.mode is Mode.TRAINING:
            return
        if self.steps.active:
            self.reset_step()
        build = self.sessions.plan(self.holder, keep_weights=not fresh)
        if build is None:
            self._raise_dock("problemsDock")
            return
        if fresh or self.live.global_step == 0:
            self.live.clear()
        self._finish = None
        self.epochs = EpochBudget(self.holder.document.training.epochs)
        batched = (StepMetrics, EpochMetrics)  # a few deliveries a second, however fast
        worker = TrainingWorker(run_events(build, self.epochs), batched=batched)
        worker.steps_ready.connect(self._on_steps)
        worker.event_ready.connect(self._on_event)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        # Stop enabled first: what follows a run (its recorder, the weights' saved state)
        # connects to the worker now, before its thread can send a single event
        self._set_mode(Mode.TRAINING)
        try:
            self._thread = start_worker(worker)
        except BaseException:  # no thread: nothing will end the run, so it never began
            self._worker = None
            self._set_mode(Mode.IDLE)
            raise
        self._raise_dock("lossPlotDock")
        self._message(PREPARING_DATA)

    def set_paused(self, paused: bool) -> None:
        """Hold the run before its next step, or let it go on."""
        if self._worker is None:
            return
        if paused:
            self._worker.pause()
            self.actions.progress.setText(self.actions.progress.text() + " · paused")
        else:
            self._worker.resume()

    def stop(self) -> None:
        """End the run after the current step."""
        if self._worker is not None:
            self._worker.stop()

    def shutdown(self) -> None:
        """Stop a run and wait for its thread (window closed, application quitting; see
        :class:`CloseGuard`); signals it sent and not yet delivered are then dropped."""
        if self._worker is not None and self._thread is not None:
            stop_and_wait(self._worker, self._thread)
            self._worker.finished.disconnect(self._on_worker_finished)
            self._finished_cleanup()

    # -- worker signals -----------------------------------------------------------------------
    def _on_steps(self, batch: list[StepMetrics | EpochMetrics]) -> None:
        if self._worker is not None:  # else sent before a shutdown, delivered after it
            self.live.add(batch)

    def _on_event(self, event: object) -> None:
        if self._worker is None:
            return
        if isinstance(event, SessionReady):
            self.sessions.adopt(event.session)
            self.live.prepare(event.session, self.epochs)
            device = event.session.settings.device.upper()
            self._message(event.note or f"Training on {device}…")
        elif isinstance(event, Preparing):
            self._message(event.text, 0)
        elif isinstance(event, (TrainingFinished, SessionFailed)):
            self._finish = event

    def _on_worker_finished(self, error: str) -> None:
        self._finished_cleanup()
        finish = self._finish
        if error:
            self._message(f"Training failed: {error}", 0)
            self.host.problems.show_problems("Training failed", [error])
        elif isinstance(finish, SessionFailed):
            self._message(f"Cannot train: {finish.message}", 0)
            self._raise_dock("problemsDock")
        elif finish is not None and finish.reason == "nan":
            self._on_nan(finish)
        else:
            text = final_summary(finish, self.live.last_step, self.live.last_epoch)
            self.loss_plot.summary.setText(text)
            self._message(text, 0)

    def _finished_cleanup(self) -> None:
        if self._thread is not None:
            self._thread.wait()
        self.live.end()
        self._worker, self._thread = None, None
        self.actions.pause.setChecked(False)
        self._set_mode(Mode.IDLE)
        self.run_ended.emit()

    def _on_nan(self, finish: TrainingFinished) -> None:
        node_id = finish.node_id
        where = self.blocks.title(node_id) if node_id else "the loss"
        message = self.blocks.told(finish.message, node_id) if node_id else finish.message
        text = f"Training stopped: NaN/Inf began at {where}: {message}"
        if node_id is not None and node_id in self.blocks.document().nodes:
            shown = self.blocks.shown(node_id)  # the block holding it, unless opened
            if shown is not None:
                self.host.reveal_node(shown)
            self.overlay.flag_error(node_id, message)
        self.loss_plot.summary.setText(
            f"<span style='color:#c0302c'>Training stopped: NaN/Inf began at {where}</span>"
        )
        self.loss_plot.summary.setToolTip(text)
        self._message(text, 0)

    # -- step-through ---------------------------------------------------------------------------
    def step_forward(self) -> None:
        """Run the next node of the forward pass on one batch."""
        if self.mode is Mode.TRAINING or not self.kernels.ready(self.step_forward):
            return
        if not self._ensure_stepping():
            return
        if not self.steps.can_forward():
            self._message("The forward pass is complete: Step Backward (Shift+F10) goes on")
            return
        self._step(self.steps.forward)

    def step_backward(self) -> None:
        """Propagate the gradient through the next node, in reverse order."""
        if self.mode is not Mode.STEPPING or not self.steps.can_backward():
            self._message("Step Forward to the loss first; Step Backward then goes back")
            return
        self._step(self.steps.backward)

    def reset_step(self) -> None:
        """Leave the step-through and unlock editing."""
        self.steps.reset()
        if self.mode is Mode.STEPPING:
            self._set_mode(Mode.IDLE)
            self._raise_dock("inspectorDock")
            self._message("Step-through reset")

    def _ensure_stepping(self) -> bool:
        if self.steps.active:
            return True
        session = self.sessions.get(self.holder, keep_weights=True)
        if session is None:
            return False
        try:
            self.steps.start(session.stepper())
        except SESSION_ERRORS as error:
            self._message(f"Cannot step: {error}")
            return False
        self._set_mode(Mode.STEPPING)
        self._raise_dock("tensorViewDock")
        return True

    def _step(self, step: Callable[[], str]) -> None:
        try:
            text = step()
        except SESSION_ERRORS as error:
            self._message(f"Step failed: {error}")
            return
        self._message(text, 0)
        self._update_actions()

    def _on_selection_changed(self) -> None:
        try:
            ids = self.host.scene.selected_node_ids()
        except RuntimeError:  # the scene is being torn down
            return
        if len(ids) != 1 or self.mode is Mode.TRAINING:
            return
        if self.steps.active:
            self.steps.show_node(ids[0])
        elif self.session is not None and not self.sessions.model_changed:
            self._show_weights(ids[0])

    def _show_weights(self, node_id: str) -> None:
        """The trained weights of a node the canvas shows (a block node: of every node inside,
        each named by its place in the block)."""
        if self.session is None:
            return
        program, blocks = self.session.program, self.blocks
        inside = blocks.members().get(node_id, [])
        if len(inside) == 1 and inside[0] in program.nodes:
            params = program.node_parameters(inside[0])
            entries = [TensorEntry(name, p.numpy(), is_param=True) for name, p in params.items()]
            title = blocks.title(inside[0])
        else:
            entries = [
                TensorEntry(f"{blocks.place(flat_id)}.{name}", p.numpy(), is_param=True)
                for flat_id in inside
                for name, p in program.node_parameters(flat_id).items()
            ]
            title = blocks.shown_title(node_id)
        if entries:
            self.tensor_view.show_tensors(f"weights of {title}", entries, mode="value")

    # -- document and settings ------------------------------------------------------------------
    def _on_document_event(self, event: DocumentEvent) -> None:
        self.sessions.note(event)
        if event.kind is EventKind.SETTINGS_CHANGED:
            settings = self.holder.document.training
            if event.name == "learning_rate" and self.session is not None:
                self.session.set_learning_rate(settings.learning_rate)
            elif event.name == "epochs":
                self.epochs.set_count(settings.epochs)
                if self.mode is Mode.TRAINING:
                    self.live.plan()
                    self._message(epochs_change_text(self.epochs, self.live.last_step), 0)
            elif event.name == "device":
                self._sync_device()
        self._update_actions()

    def _on_document_replaced(self) -> None:
        self.shutdown()
        self.reset_step()
        self.sessions.forget()
        self.live.clear()
        self._sync_device()
        self._update_actions()

    def _sync_device(self) -> None:
        box = self.actions.device
        index = box.findData(self.holder.document.training.device)
        if index >= 0 and index != box.currentIndex():
            box.setCurrentIndex(index)

    def _on_device_chosen(self, index: int) -> None:
        device = self.actions.device.itemData(index)
        if device != self.holder.document.training.device:
            refused = self.host.editor.set_setting("device", device)
            if refused:
                self._sync_device()

    # -- helpers --------------------------------------------------------------------------------
    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode is Mode.IDLE:
            self.host.lock_editing(False, "")
        else:
            self.host.lock_editing(True, TRAINING_LOCK if mode is Mode.TRAINING else STEPPING_LOCK)
        self._update_actions()

    def _update_actions(self) -> None:
        training, stepping = self.mode is Mode.TRAINING, self.steps.active
        self.actions.set_enabled(
            run=not training,
            continue_=not training and self.sessions.has_weights(),
            pause=training,
            stop=training,
            step_forward=not training and self.steps.can_forward(),
            step_backward=not training and self.steps.can_backward(),
            reset_step=stepping,
            device=not training and not stepping,
        )

    def _raise_dock(self, name: str) -> None:
        dock = self.host.docks.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()

    def _message(self, text: str, timeout_ms: int = 8000) -> None:
        self.host.status.show_message(text, timeout_ms)
