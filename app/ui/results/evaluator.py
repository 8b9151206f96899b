"""Evaluation off the GUI thread: a private copy of the trained model is scored on a worker
thread, and the result comes back to the GUI thread as a signal.

Scoring a split runs the whole model over it (0.3 s for the bundled transformer's validation
text, seconds for a large dataset); on the GUI thread that froze the window at the end of
every run. The worker gets its own :class:`Program` (compiled again, the weights copied), so a
run continued, a step taken or a prediction in the try-it dock meanwhile cannot change the
weights or the train/eval mode under it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.graph.compile import Program, compile_document
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.evaluation import Evaluation, Split, evaluate
from app.graph.kernels import prepare_kernels
from engine.errors import EngineError

__all__ = ["EVALUATION_ERRORS", "Evaluator", "Scored", "private_copy"]

#: The errors an evaluation reports to the user (anything else is a bug and propagates).
EVALUATION_ERRORS = (GraphError, EngineError, ValueError, OSError)


@dataclass(frozen=True)
class Scored:
    """One finished evaluation: ``result``, or ``error`` saying why there is none."""

    ticket: int
    split: str
    result: Evaluation | None
    error: str
    context: Any


def private_copy(document: GraphDocument, program: Program) -> Program:
    """``document`` compiled again with ``program``'s weights copied in (on its device), and
    ``program``'s settings and data: a validation split changed since the run must not move
    samples the model trained on into the scores."""
    state = np.random.get_state()  # compiling seeds NumPy's global generator, which dropout
    try:  # draws from: a run continued after this evaluation must draw what it would have
        copy = compile_document(document, program.validation)
    finally:
        np.random.set_state(state)
    copy.load_state_dict(program.state_dict())  # copied into the fresh parameters
    copy.settings = dataclasses.replace(program.settings)
    copy.dataset = program.dataset  # read only, by the splits the settings choose
    if program.device != "cpu":
        copy.to(program.device)
    return copy


class Evaluator(QObject):
    """Runs one evaluation at a time on a worker thread; ``scored`` brings each back.

    Every :meth:`start` returns a ticket; :attr:`ticket` is the newest. A caller shows a
    result only when its ticket is still the newest (a newer request or an edit makes it
    stale), while ``context`` (a run's record waiting for its metrics) is handed back either way.
    """

    scored = Signal(object)  # Scored, delivered on the GUI thread
    _finished = Signal(object)  # emitted by the worker thread, queued to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ticket = 0
        self._threads: list[threading.Thread] = []
        self._undelivered: set[int] = set()
        self._finished.connect(self._deliver)

    def start(self, program: Program, split: Split, context: Any = None) -> int:
        """Score ``program`` (which nothing else may use) on ``split`` on a worker thread."""
        self.ticket += 1
        ticket = self.ticket
        thread = threading.Thread(
            target=self._run,
            args=(ticket, program, split, context),
            name="nodegrad-evaluate",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        self._undelivered.add(ticket)
        thread.start()
        return ticket

    def forget(self) -> None:
        """Make every evaluation under way stale (its result will not be shown)."""
        self.ticket += 1

    def busy(self) -> bool:
        """Whether an evaluation is still running."""
        return any(t.is_alive() for t in self._threads)

    def pending(self) -> bool:
        """Whether an evaluation's result has not reached ``scored`` yet (running, or
        finished with its result still queued)."""
        return bool(self._undelivered)

    def _deliver(self, scored: Scored) -> None:
        self._undelivered.discard(scored.ticket)
        self.scored.emit(scored)

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the evaluations under way (their ``scored`` signals are then queued)."""
        for thread in list(self._threads):
            thread.join(timeout_s)

    def _run(self, ticket: int, program: Program, split: Split, context: Any) -> None:
        result: Evaluation | None = None
        error = ""
        try:
            error = prepare_kernels()  # the first run of ops in this process may compile them
            if not error:
                result = evaluate(program, split)
        except EVALUATION_ERRORS as caught:
            error = str(caught)
        except Exception as caught:  # a bug: said in the dock rather than lost with the thread
            traceback.print_exc()
            error = f"internal error ({type(caught).__name__}): {caught}"
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._finished.emit(Scored(ticket, split, result, error, context))
