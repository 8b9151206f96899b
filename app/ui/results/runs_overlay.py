"""Curves of recorded runs over the live loss plot, one colour per run, named in the legend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from app.graph.runs import RunRecord

# distinct from the live curves (grey, blue, orange, green): a qualitative palette
COLOURS = [
    (148, 103, 189), (214, 39, 40), (23, 190, 207), (188, 189, 34), (227, 119, 194),
    (140, 86, 75), (31, 119, 180), (255, 127, 14),
]  # fmt: skip


RUN_PREFIX = "▸ "  # marks the legend entries of recorded runs


class RunOverlay:
    """Adds one curve per ticked run to ``loss_plot.loss_widget`` (train loss per epoch,
    validation loss dashed), placed on the step axis by the run's steps per epoch."""

    def __init__(self, loss_plot: Any) -> None:
        self.loss_plot = loss_plot
        self.plot = loss_plot.loss_widget
        self.curves: dict[str, list[Any]] = {}
        self._names: dict[str, str] = {}

    def show_runs(self, runs: list[RunRecord]) -> None:
        """Show exactly ``runs`` (others are removed), each in its own colour."""
        wanted = {run.id for run in runs}
        for run_id in list(self.curves):
            if run_id not in wanted:
                for curve in self.curves.pop(run_id):
                    self.plot.removeItem(curve)
        for index, run in enumerate(runs):
            if run.id in self.curves:
                self._recolour(run, index)
                continue
            self.curves[run.id] = self._curves(run, index)
        self._names = {run.id: run.name for run in runs}
        self.refresh_legend()

    def refresh_legend(self) -> None:
        """Name the shown runs in the loss plot's legend, after its own entries."""
        legend = getattr(self.loss_plot, "legend", None)
        if legend is None or not hasattr(legend, "set_entries"):
            return
        mine = {f"{name} (train)" for name in self._names.values()}
        mine |= {f"{name} (validation)" for name in self._names.values()}
        own = [e for e in legend.entries if not e[0].startswith(RUN_PREFIX) and e[0] not in mine]
        entries = list(own)
        for curves in self.curves.values():
            for curve in curves:
                pen = curve.opts["pen"]
                dashed = pen.style() != pg.QtCore.Qt.PenStyle.SolidLine
                entries.append((RUN_PREFIX + curve.name(), pen.color(), dashed))
        legend.set_entries(entries)

    def colour_of(self, run_id: str) -> tuple[int, int, int] | None:
        """The colour run ``run_id`` is drawn in (None when not shown)."""
        curves = self.curves.get(run_id)
        if not curves:
            return None
        colour = curves[0].opts["pen"].color()
        return colour.red(), colour.green(), colour.blue()

    def _curves(self, run: RunRecord, index: int) -> list[Any]:
        colour = COLOURS[index % len(COLOURS)]
        per_epoch = run.steps_per_epoch or 1
        epochs = [e for e in run.epochs if e.get("epoch") is not None]
        steps = np.array([(float(e["epoch"] or 0) + 1) * per_epoch for e in epochs])
        curves = []
        train = np.array([np.nan if e.get("train_loss") is None else e["train_loss"]
                          for e in epochs], dtype=np.float64)  # fmt: skip
        curves.append(self.plot.plot(steps, train, pen=pg.mkPen(colour, width=2),
                                     symbol="t", symbolSize=6, symbolBrush=colour,
                                     name=f"{run.name} (train)"))  # fmt: skip
        val = np.array([np.nan if e.get("val_loss") is None else e["val_loss"] for e in epochs],
                       dtype=np.float64)  # fmt: skip
        if np.isfinite(val).any():
            pen = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
            curves.append(self.plot.plot(steps, val, pen=pen, name=f"{run.name} (validation)"))
        return curves

    def _recolour(self, run: RunRecord, index: int) -> None:
        colour = COLOURS[index % len(COLOURS)]
        for curve in self.curves[run.id]:
            pen = pg.mkPen(colour, width=2, style=curve.opts["pen"].style())
            curve.setPen(pen)
