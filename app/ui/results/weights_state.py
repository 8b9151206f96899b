"""Trained weights as document state: what Save writes, what Open loads, what marks unsaved.

:class:`WeightsState` is the file controller's weights keeper. A run that changed the weights
(finished, stopped, or paused) marks the document modified, so New, Open and Close ask to
save. Save during a run holds the worker between two steps for a consistent snapshot. Weights
that no longer fit the graph load where they fit; each node that does not is named in the
status bar and in the problems panel until the next run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTreeWidgetItem

from app.graph.blocks.flatten import flatten
from app.graph.compile import compile_document
from app.graph.errors import GraphError
from app.graph.run_view import place
from app.graph.shapes import Severity
from app.graph.weights_fit import Misfit, fit_weights
from app.ui.problems import NODE_ROLE, severity_icon
from engine.errors import EngineError

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

Weights = dict[str, np.ndarray]
HOLD_TIMEOUT_S = 5.0


class WeightsState(QObject):
    """Keeps the training room's weights in step with the document and its file."""

    def __init__(self, window: MainWindow, steps_seen: Any, loaded: Any = None) -> None:
        super().__init__(window)
        self.window, self.holder, self.training = window, window.holder, window.training
        self._steps_seen = steps_seen
        self._loaded = loaded or (lambda: None)  # called after weights were handed over
        self.misfits: list[Misfit] = []
        actions = self.training.actions
        actions.stop.enabledChanged.connect(self._on_run_state)
        actions.pause.toggled.connect(self._on_paused)
        self.holder.replaced.connect(self._on_replaced)
        self.holder.validated.connect(lambda _result: self._show_misfits())

    # -- the file controller's weights keeper ---------------------------------------------------
    def weights(self) -> Weights | None:
        """The weights to save beside the graph (see :meth:`weights_for_save`)."""
        return self.weights_for_save()[0]

    def weights_for_save(self) -> tuple[Weights | None, str]:
        """The weights to save and a note for the status bar saying what they are.

        During a run the worker is held between two steps while the weights are copied, then
        let go (unless it was paused): the snapshot is consistent and training goes on.
        """
        training = self.training
        worker = training.worker
        if training.is_training() and worker is not None:
            paused, held = worker.paused, worker.held
            if not held and not worker.hold(HOLD_TIMEOUT_S):
                if not paused:
                    worker.resume()
                return None, " without weights: the step under way did not end in time"
            try:
                weights = training.sessions.weights()
                session = training.session
                epoch = session.epochs_done + 1 if session is not None else 1
            finally:
                if not paused:
                    worker.resume()
            if not weights:
                return None, ""
            going = "paused" if paused else "training goes on"
            return weights, (
                f" with a snapshot of the weights taken between two steps of epoch {epoch} "
                f"({going})"
            )
        weights = training.weights()
        return (weights, " with its trained weights") if weights else (None, "")

    def set_weights(self, weights: Weights | None) -> str:
        """Weights loaded with the graph: those that fit go to the training room.

        Returns a note for the status bar (which weights were loaded, which nodes not).
        """
        self.misfits = []
        if not weights:
            self.training.set_weights(None)
            self._show_misfits()
            return ""
        try:
            program = compile_document(self.holder.document)  # the validation may lag
        except (GraphError, EngineError, ValueError, OSError):
            self.training.set_weights(weights)  # the graph cannot run yet: keep them as saved
            self._loaded()
            return " with its trained weights"
        flat = flatten(self.holder.document)
        document = self.holder.document
        fitted, self.misfits = fit_weights(
            program, weights, lambda node_id: place(document, flat, node_id)
        )
        self.training.set_weights(fitted)
        self._show_misfits()
        self._loaded()
        if not self.misfits:
            return " with its trained weights"
        names = ", ".join(f"'{place(document, flat, m.node_id)}'" for m in self.misfits)
        return (
            f" with its trained weights, except for {len(self.misfits)} node(s) that no longer "
            f"fit: {names} (see Problems)"
        )

    # -- document state -----------------------------------------------------------------------
    def _on_run_state(self, running: bool) -> None:
        """A run started (clear the misfits: the weights are the run's now) or ended."""
        if running and self.misfits:
            self.misfits = []
            self.holder.validate_now()  # the panel lists the graph's own problems again
        elif not running and self._steps_seen() > 0:
            self.holder.mark_modified()

    def _on_paused(self, paused: bool) -> None:
        if paused and self._steps_seen() > 0:
            self.holder.mark_modified()

    def _on_replaced(self) -> None:
        self.misfits = []

    def _show_misfits(self) -> None:
        """Add a warning row per misfit to the problems panel (after its own rows)."""
        panel = self.window.problems
        if not self.misfits:
            return
        document = self.holder.document
        flat = flatten(document)
        for misfit in self.misfits:
            known = misfit.node_id in flat.document.nodes
            where = f"'{place(document, flat, misfit.node_id)}'" if known else misfit.node_id
            item = QTreeWidgetItem(panel, ["Warning", where, f"Saved weights: {misfit.message}"])
            item.setIcon(0, severity_icon(Severity.WARNING))
            item.setData(0, NODE_ROLE, misfit.node_id if known else "")  # a flat id: revealed
            item.setToolTip(2, misfit.message)
