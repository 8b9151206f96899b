"""Work the GUI thread does with the model (a step, a try-it prediction) waits for the compiled
kernels, which a worker thread loads or compiles, while the status bar says so."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.graph.kernels import PREPARING, needs_preparing, prepare_kernels
from app.ui.collaborators import StatusSink

__all__ = ["KernelGate"]


class KernelGate(QObject):
    """Lets GUI-thread work through once the engine's compiled kernels are ready.

    ``ready(then)`` answers True when they are (the caller goes on at once). Otherwise it starts
    preparing them on a worker thread (once, however often it is asked), shows
    :data:`~app.graph.kernels.PREPARING` in the status bar, and returns False; when they are
    ready the message is cleared and the latest ``then`` is called on the GUI thread. A failure
    is one status-bar line and ``then`` is not called. ``prepared`` is emitted with "" or that
    line.
    """

    prepared = Signal(str)
    _finished = Signal(str)  # emitted by the worker thread, queued to the GUI thread

    def __init__(self, status: StatusSink, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kernelGate")
        self._status = status
        self._then: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._finished.connect(self._on_finished)

    def ready(self, then: Callable[[], None]) -> bool:
        """True when the kernels are ready; else prepare them and call ``then`` afterwards."""
        if not needs_preparing():
            return True
        self._then = then
        if self._thread is None or not self._thread.is_alive():
            self._status.show_message(PREPARING, 0)
            self._thread = threading.Thread(
                target=self._prepare, name="nodegrad-kernels", daemon=True
            )
            self._thread.start()
        return False

    def busy(self) -> bool:
        """Whether the kernels are being prepared."""
        return self._thread is not None and self._thread.is_alive()

    def _prepare(self) -> None:
        error = prepare_kernels()
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._finished.emit(error)

    def _on_finished(self, error: str) -> None:
        then, self._then = self._then, None
        if error:
            self._status.show_message(f"Cannot run the model: {error}", 0)
        else:
            self._status.show_message("Compiled kernels ready", 3000)
            if then is not None:
                then()
        self.prepared.emit(error)
