"""Closing the window while training runs: ask first, stop the run only if the window closes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.ui.training.worker import TrainingWorker

if TYPE_CHECKING:
    from app.ui.training.controller import TrainingController

HOLD_TIMEOUT_S = 2.0
RECHECK_MS = 100


class CloseGuard(QObject):
    """Watches the main window's Close and Hide events for the training controller.

    Event filters see an event before the window does, so on Close (before MainWindow asks
    "save changes?") the run is only *held* between two steps: the weights are then steady,
    and Save writes them beside the graph. If the window really closes, it hides right after
    its close event was accepted: the Hide stops the run and joins its thread (no hang, no
    signal to a closed window). If the question was cancelled the window stays visible, and
    the run goes on (unless Pause was on before).
    """

    def __init__(self, window: QWidget, controller: TrainingController) -> None:
        super().__init__(controller)
        self._window, self._controller = window, controller
        self._resume_after: TrainingWorker | None = None
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hold the run on Close; stop it on the Hide of a window that closes."""
        if watched is not self._window:
            return False
        if event.type() == QEvent.Type.Close:
            self._hold()
        elif event.type() == QEvent.Type.Hide and not event.spontaneous():
            self._resume_after = None
            self._controller.shutdown()  # minimising hides spontaneously: that goes on
        return False

    def _hold(self) -> None:
        worker = self._controller.worker
        if worker is None or worker.paused:
            return
        worker.hold(HOLD_TIMEOUT_S)
        self._resume_after = worker
        QTimer.singleShot(0, self._resume_if_open)

    def _resume_if_open(self) -> None:
        """After a cancelled close (the window still shown, no question open) the run goes on."""
        worker = self._resume_after
        if worker is None or worker is not self._controller.worker:
            return
        if QApplication.activeModalWidget() is not None:  # "save changes?" still asked
            QTimer.singleShot(RECHECK_MS, self._resume_if_open)
            return
        self._resume_after = None
        if self._window.isVisible():
            worker.resume()
