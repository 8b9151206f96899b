"""The session a run or step-through uses: kept while it still matches the document."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.graph.document import DocumentEvent, EventKind
from app.graph.errors import GraphError
from app.graph.metrics import EpochMetrics, TrainingFinished, trained_message
from app.graph.session import Session
from app.graph.validate import Severity
from app.ui.document_holder import DocumentHolder
from app.ui.editor import LIVE_SETTINGS
from engine.errors import EngineError

SESSION_ERRORS = (GraphError, EngineError, ValueError, OSError)
Builder = Callable[[], tuple[Session, str]]


class SessionKeeper:
    """Holds the current :class:`Session` and knows when it no longer fits the document.

    A model edit makes the session *stale* and its weights unsafe to save; a settings edit
    other than the learning rate or the epoch count (which a running session takes at once)
    makes it stale but keeps its weights, which a new session then starts from.
    """

    def __init__(self, message: Callable[[str], None]) -> None:
        self._message = message
        self.session: Session | None = None
        self.stale = False
        self.model_changed = False
        self.loaded: dict[str, np.ndarray] | None = None

    def forget(self) -> None:
        """Drop the session and any loaded weights (another document)."""
        self.session, self.loaded = None, None
        self.stale = self.model_changed = False

    def has_weights(self) -> bool:
        """Whether Continue Training has weights to start from."""
        return self.session is not None or self.loaded is not None

    def weights(self) -> dict[str, np.ndarray] | None:
        """Trained or loaded weights that still fit the document, else None."""
        if self.session is not None:
            return None if self.model_changed else self.session.weights()
        return self.loaded

    def note(self, event: DocumentEvent) -> None:
        """Follow a document event: model edits and most settings make the session stale."""
        if event.kind is EventKind.NODE_MOVED:
            return
        if event.kind is not EventKind.SETTINGS_CHANGED:
            self.stale = self.model_changed = True
        elif event.name not in LIVE_SETTINGS:
            self.stale = True

    def plan(self, holder: DocumentHolder, keep_weights: bool) -> Builder | None:
        """How to get the session for a run, without building it yet (a new session loads its
        dataset, which may take seconds, so the worker thread calls the builder).

        The builder returns the session and a note (empty, or why the kept weights were not
        used). Reuses the current session when ``keep_weights`` and it still fits; otherwise
        a new session for ``holder.document``, starting from the old or loaded weights when
        ``keep_weights`` and they fit. None (after saying why) when the graph has errors.
        """
        if keep_weights and self.session is not None and not self.stale:
            current = self.session
            return lambda: (current, "")
        validation = holder.validate_now()
        if not validation.ok:
            errors = sum(d.severity is Severity.ERROR for d in validation.diagnostics)
            self._message(f"Cannot train: fix the {errors} error(s) listed in Problems first")
            return None
        weights = None
        if keep_weights:
            weights = self.session.weights() if self.session is not None else self.loaded
        document = holder.document

        def build() -> tuple[Session, str]:
            session = Session(document)
            if weights:
                try:
                    session.load_weights(weights)
                except SESSION_ERRORS as error:
                    return session, f"The weights no longer fit the graph ({error}); fresh start"
            return session, ""

        return build

    def adopt(self, session: Session) -> None:
        """Make ``session`` the current one (it matches the document now)."""
        self.session, self.stale, self.model_changed = session, False, False

    def get(self, holder: DocumentHolder, keep_weights: bool) -> Session | None:
        """The session for a step-through, built now; None after saying why not."""
        build = self.plan(holder, keep_weights)
        if build is None:
            return None
        try:
            session, note = build()
        except SESSION_ERRORS as error:
            self._message(f"Cannot train: {error}")
            return None
        if note:
            self._message(note)
        self.adopt(session)
        return session


@dataclass(frozen=True)
class SessionReady:
    """The worker's first event: the session it built (and a note on its weights)."""

    session: Session
    note: str = ""


@dataclass(frozen=True)
class SessionFailed:
    """The worker's only event when the graph could not be made into a session."""

    message: str


class EpochBudget:
    """How many epochs a run trains; the count may change while it runs (thread-safe enough:
    one int written by the GUI thread, read by the worker between epochs)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.start = 0

    @property
    def target(self) -> int:
        """The epoch number the run stops at."""
        return self.start + self.count

    def set_count(self, count: int) -> None:
        """Train ``count`` epochs in all (from the run's first epoch)."""
        self.count = count


def run_events(build: Builder, epochs: EpochBudget) -> Callable[[threading.Event], Iterator[Any]]:
    """A worker source: build the session (announced by :class:`SessionReady`, or
    :class:`SessionFailed` saying why not), then train one epoch at a time, so a new epoch
    count applies at the end of the epoch under way."""

    def source(stop: threading.Event) -> Iterator[Any]:
        try:
            session, note = build()
        except SESSION_ERRORS as error:
            yield SessionFailed(str(error))
            return
        epochs.start = session.epochs_done
        yield SessionReady(session, note)
        started = time.perf_counter()
        while session.epochs_done < epochs.target:
            for event in session.train(epochs=1, stop=stop):
                if isinstance(event, TrainingFinished):
                    if event.reason != "finished":
                        yield event
                        return
                    break
                if isinstance(event, EpochMetrics):  # time since the run began, not this epoch
                    event = dataclasses.replace(event, elapsed=time.perf_counter() - started)
                yield event
        done = session.epochs_done - epochs.start
        yield TrainingFinished("finished", message=trained_message(done))

    return source
