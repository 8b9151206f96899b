"""What a run shows while it trains: plot points, node colours and the progress text."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtWidgets import QLabel

from app.graph.metrics import EpochMetrics, StepMetrics
from app.graph.session import Session
from app.ui.canvas.scene import GraphScene
from app.ui.document_holder import DocumentHolder
from app.ui.style import category_colour
from app.ui.training.cadence import on_screen
from app.ui.training.canvas_overlay import CanvasOverlay
from app.ui.training.grad_plot import GradPlot
from app.ui.training.loss_plot import LossPlot
from app.ui.training.sessions import EpochBudget
from app.ui.training.summary import progress_text

OVERLAY_INTERVAL_S = 0.2
# The widest progress text the label is sized for (a longer one is cut at the right).
PROGRESS_TEMPLATE = "epoch 0000/0000 · step 00000/00000 · 0,000,000 samples/s · loss 0.0000e-00"


class LiveRun:
    """Feeds the worker's batches of step and epoch metrics to the loss and gradient plots,
    the canvas colours and the progress label, and remembers where the run stands.

    Steps are numbered across runs (Continue goes on from the last step) until :meth:`clear`.
    """

    def __init__(
        self,
        holder: DocumentHolder,
        scene: GraphScene,
        loss_plot: LossPlot,
        grad_plot: GradPlot,
        overlay: CanvasOverlay,
        progress: QLabel,
    ) -> None:
        self.holder, self.scene = holder, scene
        self.overlay, self.progress = overlay, progress
        self.loss_plot, self.grad_plot = loss_plot, grad_plot
        self.global_step = 0
        self.last_step: StepMetrics | None = None
        self.last_epoch: EpochMetrics | None = None
        self.epochs = EpochBudget(0)
        self._run_steps = (0, 0)  # global step before the run, steps per epoch
        self._norms: dict[str, float] = {}
        self._norms_shown = 0.0
        self._rate = 0.0
        # A fixed size: the text changes several times a second while training, and a label
        # whose size hint changes makes the main window lay out every dock again (animated),
        # costing the training thread the GIL. Sized once, so a run's start and end do not
        # relayout the window either.
        width = progress.fontMetrics().horizontalAdvance(PROGRESS_TEMPLATE) + 8
        progress.setFixedSize(width, progress.sizeHint().height())

    def clear(self) -> None:
        """Forget every point and colour (a fresh run, another document)."""
        self.global_step = 0
        self.last_step = self.last_epoch = None
        self._norms = {}
        self.loss_plot.clear()
        self.grad_plot.clear()
        self.overlay.clear_gradients()

    def end(self) -> None:
        """The run ended: the last progress text, and the plots' x axes fitted to the steps
        done (a stopped run ends before its plan)."""
        self.show_progress()
        # The end-of-run message says it all: give it the progress label's room in the status
        # bar so it is not cut off at the default window size (shown again at the next run).
        self.progress.hide()
        for plot in (self.loss_plot, self.grad_plot):
            plot.plan(self.global_step)
            if on_screen(plot):
                plot.refresh()

    def prepare(self, session: Session, epochs: EpochBudget) -> None:
        """A run of ``epochs`` starts on ``session``: name the curves, size the axes."""
        self.progress.show()
        self.name_curves()
        self.epochs = epochs
        self._run_steps = (self.global_step, len(session.loader))
        self.plan()
        dataset = session.program.dataset
        self.loss_plot.set_classifier(getattr(dataset, "task", "") == "classification")

    def name_curves(self) -> None:
        """One gradient curve per node the canvas shows (a block: the largest norm inside it),
        named and coloured as the node; again when the canvas opens another block."""
        blocks = self.overlay.blocks
        groups = blocks.members()
        graph = blocks.graph()
        names = {nid: blocks.shown_title(nid) for nid in groups}
        colours = {
            nid: category_colour(graph.nodes[nid].spec.category)
            for nid in groups
            if nid in graph.nodes
        }
        self.grad_plot.set_groups(groups)  # first: no curve left to recolour
        self.grad_plot.set_nodes(names, colours)

    def plan(self) -> None:
        """Size the plots' x axes for the step the run should end at (fewer axis redraws);
        again when the epoch count changes during the run."""
        first, per_epoch = self._run_steps
        for plot in (self.loss_plot, self.grad_plot):
            plot.plan(first + self.epochs.count * per_epoch)

    def add(self, batch: list[StepMetrics | EpochMetrics]) -> None:
        """Show a batch of metrics: its steps as one block of points (a batch holds many
        short epochs in a fast run), each epoch's point at the step it ended on."""
        steps: list[StepMetrics] = []
        for event in batch:
            if isinstance(event, StepMetrics):
                steps.append(event)
            else:
                self.last_epoch = event
                ended = self.global_step + len(steps)
                self.loss_plot.add_epoch(ended, event.val_loss, event.val_accuracy)
        self._add_steps(steps)

    def _add_steps(self, batch: list[StepMetrics]) -> None:
        if not batch:
            return
        first = self.global_step + 1
        self.global_step += len(batch)
        numbers = np.arange(first, self.global_step + 1)
        self.loss_plot.add_steps(numbers, np.array([m.loss for m in batch]))
        self.grad_plot.add_steps(numbers, batch)
        self.last_step = batch[-1]
        measured = next(
            (m for m in reversed(batch) if m.output_grad_norms or m.param_grad_norms), None
        )
        if measured is not None:
            self._norms = {**measured.output_grad_norms, **measured.param_grad_norms}
        self._rate = float(np.mean([m.samples_per_s for m in batch]))
        if time.monotonic() - self._norms_shown >= OVERLAY_INTERVAL_S:
            self.show_progress()

    def show_progress(self) -> None:
        """Node colours and the progress text, about 5 times a second (each costs the GUI
        thread repaints, and the training thread the GIL)."""
        self._norms_shown = time.monotonic()
        if self._norms:
            self.overlay.show_gradients(self._norms)
        if self.last_step is not None:
            self.progress.setText(progress_text(self.last_step, self.epochs.target, self._rate))
