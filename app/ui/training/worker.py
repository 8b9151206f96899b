"""The training worker: iterates a Qt-free event generator in a QThread and emits signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

EMIT_INTERVAL_S = 0.05

EventSource = Callable[[threading.Event], Iterator[object]]


class TrainingWorker(QObject):
    """Runs ``source(stop_event)`` (e.g. ``lambda stop: session.train(stop=stop)``) to the end.

    Events whose type is in ``batched`` (step and epoch metrics) are collected and emitted
    together in ``steps_ready`` at most about 20 times a second, so a fast run costs the GUI
    thread few deliveries. When even the most frequent kind comes less often than that (slow
    steps), nothing is held: each event goes at once, so an epoch's metrics never wait for
    the next slow step. Any other event first flushes the batch and is then emitted at once
    in ``event_ready``. Between two events the worker honours
    ``pause()``/``resume()`` and ``stop()``; stop is also the event handed to the source, so
    the session stops between steps and says so in its last event. The worker never touches
    a widget. ``finished`` is emitted last, with the error text if the source raised (empty
    otherwise), and the thread's event loop is told to quit.
    """

    steps_ready = Signal(list)
    event_ready = Signal(object)
    finished = Signal(str)

    def __init__(self, source: EventSource, batched: tuple[type, ...]) -> None:
        super().__init__()
        self._source = source
        self._batched = batched
        self.stop_event = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._held = threading.Event()  # set while waiting paused between events, or ended

    def pause(self) -> None:
        """Hold the worker before its next step (thread-safe)."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused worker go on (thread-safe)."""
        self._running.set()
        self._held.clear()

    def stop(self) -> None:
        """Ask the run to end after the current step (thread-safe; wakes a paused worker)."""
        self.stop_event.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        """True while pause() holds the worker."""
        return not self._running.is_set()

    @property
    def held(self) -> bool:
        """True while the worker waits, paused, between two events, or after it ended: the
        session does not change until ``resume()``."""
        return self._held.is_set()

    def hold(self, timeout_s: float) -> bool:
        """Pause and wait (at most ``timeout_s``) until the worker is held; True if it is."""
        self.pause()
        return self._held.wait(timeout_s)

    @Slot()
    def run(self) -> None:
        """Iterate the source to its end; call in the worker thread (``QThread.started``)."""
        error = ""
        pending: list[object] = []
        events = None
        try:
            events = self._source(self.stop_event)
            last_emit = time.monotonic()
            pace = _Pace()
            for event in events:
                if isinstance(event, self._batched):
                    pending.append(event)
                    now = time.monotonic()
                    if pace.slow(event, now) or now - last_emit >= EMIT_INTERVAL_S:
                        self._flush(pending)
                        last_emit = now
                else:
                    self._flush(pending)
                    self.event_ready.emit(event)
                if not self._running.is_set():
                    self._flush(pending)  # show every step done before the pause
                    self._held.set()
                    self._running.wait()
                    self._held.clear()
        except Exception as exc:  # the UI shows any failure of the run; nothing is lost
            error = f"{type(exc).__name__}: {exc}"
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            self._flush(pending)
            self._held.set()
            self.finished.emit(error)
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _flush(self, pending: list[object]) -> None:
        if pending:
            self.steps_ready.emit(list(pending))
            pending.clear()


class _Pace:
    """How often each kind of batched event comes: the last interval per type."""

    def __init__(self) -> None:
        self._last: dict[type, float] = {}
        self._gap: dict[type, float] = {}

    def slow(self, event: object, now: float) -> bool:
        """Note ``event``; True when every kind seen twice comes less often than the batching
        interval (then batching only delays what the user waits for)."""
        kind = type(event)
        if kind in self._last:
            self._gap[kind] = now - self._last[kind]
        self._last[kind] = now
        return bool(self._gap) and min(self._gap.values()) >= EMIT_INTERVAL_S


def start_worker(worker: TrainingWorker) -> QThread:
    """Move the worker to a new QThread and start it; keep the returned thread referenced."""
    thread = QThread()
    thread.setObjectName("trainingThread")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    return thread


def stop_and_wait(worker: TrainingWorker, thread: QThread, timeout_ms: int = 10_000) -> bool:
    """Stop the worker and block until its thread ended; True when it did in time."""
    worker.stop()
    thread.quit()
    return thread.wait(timeout_ms)
