"""The session a run or step-through uses: kept while it still matches the document."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.graph.document import DocumentEvent, EventKind, GraphDocument
from app.graph.errors import GraphError
from app.graph.kernels import PREPARING, needs_preparing, prepare_kernels
from app.graph.metrics import EpochMetrics, TrainingFinished, trained_message
from app.graph.session import Session
from app.graph.validate import Severity
from app.graph.weights_follow import Footprint, follow, footprint, rename_weights
from app.ui.document_holder import DocumentHolder
from app.ui.editor import LIVE_SETTINGS
from engine.errors import EngineError

SESSION_ERRORS = (GraphError, EngineError, ValueError, OSError)
PREPARING_DATA = "Preparing the training data…"
Builder = Callable[[], tuple[Session, str]]


class SessionKeeper:
    """Holds the current :class:`Session` and knows when it no longer fits the document.

    A model edit makes the session *stale* and its weights unsafe to save; a settings edit
    other than the learning rate or the epoch count (which a running session takes at once)
    makes it stale but keeps its weights, which a new session then starts from.

    An edit after which the graph computes exactly what it did (group, ungroup, make unique,
    a label) is no model change: the weights follow their nodes to their new flat ids
    (:func:`~app.graph.weights_follow.follow`), as loaded weights a new session starts from.
    ``document`` gives the held document (without it, every edit is a model change).
    """

    def __init__(
        self,
        message: Callable[[str], None],
        document: Callable[[], GraphDocument] | None = None,
    ) -> None:
        self._message = message
        self._document = document
        self._session: Session | None = None
        self._loaded: dict[str, np.ndarray] | None = None
        self._settings_stale = False
        self._model_changed = False
        self._basis: Footprint | None = None  # what the weights kept were trained for
        self._edits = self._checked = 0  # model edits noted; the count last checked

    # -- state (each read first checks whether the model edits since changed the model) ----
    @property
    def session(self) -> Session | None:
        """The session of the last run or step-through."""
        self._settle()
        return self._session

    @property
    def loaded(self) -> dict[str, np.ndarray] | None:
        """Weights loaded with the graph (or followed through an edit) a session starts from."""
        self._settle()
        return self._loaded

    @loaded.setter
    def loaded(self, weights: dict[str, np.ndarray] | None) -> None:
        self._loaded = dict(weights) if weights else None
        self._basis = self._footprint() if weights else None
        self._edits = self._checked = 0

    @property
    def model_changed(self) -> bool:
        """Whether the model was edited since the weights were trained (or loaded)."""
        self._settle()
        return self._model_changed

    @property
    def stale(self) -> bool:
        """Whether the next run needs a new session."""
        self._settle()
        return self._settings_stale or self._model_changed

    def forget(self) -> None:
        """Drop the session and any loaded weights (another document)."""
        self._session, self._loaded, self._basis = None, None, None
        self._settings_stale = self._model_changed = False
        self._edits = self._checked = 0

    def has_weights(self) -> bool:
        """Whether Continue Training has weights to start from."""
        return self._session is not None or self._loaded is not None

    def weights(self) -> dict[str, np.ndarray] | None:
        """Trained or loaded weights that still fit the document, else None."""
        session = self.session
        if session is not None:
            return None if self._model_changed else session.weights()
        return self._loaded

    def note(self, event: DocumentEvent) -> None:
        """Follow a document event: model edits and most settings make the session stale."""
        if event.kind is EventKind.NODE_MOVED:
            return
        if event.kind is not EventKind.SETTINGS_CHANGED:
            self._model_changed = True
            self._edits += 1
        elif event.name not in LIVE_SETTINGS:
            self._settings_stale = True

    def _footprint(self) -> Footprint | None:
        if self._document is None:
            return None
        try:
            return footprint(self._document())
        except GraphError:  # a graph flattening refuses has no footprint: nothing follows
            return None

    def _settle(self) -> None:
        """After model edits: when the graph still computes what the weights were trained
        for, keep them (renamed to the new flat ids) instead of calling the model changed."""
        if self._edits == self._checked:
            return
        self._checked = self._edits
        now = self._footprint()
        mapping = follow(self._basis, now) if self._basis is not None and now else None
        if mapping is None:
            return
        self._model_changed = False
        if all(old == new for old, new in mapping.items()):
            return  # the same flat graph: the session still fits
        weights = self._session.weights() if self._session is not None else self._loaded
        self._loaded = rename_weights(weights, mapping) if weights else None
        self._session, self._basis = None, now

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
        self._session, self._basis = session, self._footprint()
        self._settings_stale = self._model_changed = False
        self._edits = self._checked = 0

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
class Preparing:
    """What the worker prepares before its session (the compiled kernels, the data): shown
    until the next event says otherwise."""

    text: str


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
    """A worker source: load or compile the engine's kernels when this process has not yet
    (announced by :class:`Preparing`), build the session (announced by :class:`SessionReady`,
    or :class:`SessionFailed` saying why not), then train one epoch at a time, so a new epoch
    count applies at the end of the epoch under way."""

    def source(stop: threading.Event) -> Iterator[Any]:
        if needs_preparing():
            yield Preparing(PREPARING)
            error = prepare_kernels()
            if error:
                yield SessionFailed(error)
                return
            yield Preparing(PREPARING_DATA)
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
