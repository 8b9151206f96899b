"""Regression views: predicted against actual, and one sequence's predicted and true series."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.graph.evaluation import Evaluation
from app.ui.training.cadence import TimedPlotWidget

PRED_PEN = pg.mkPen((40, 90, 200), width=2)
TRUE_PEN = pg.mkPen((230, 120, 30), width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
IDEAL_PEN = pg.mkPen((128, 128, 128), width=1, style=pg.QtCore.Qt.PenStyle.DotLine)
MAX_POINTS = 20_000


def plot_widget(bottom: str, left: str) -> pg.PlotWidget:
    """A plot that follows the window's palette, with a grid, labelled axes and a legend."""
    widget = TimedPlotWidget()
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("bottom", bottom)
    item.setLabel("left", left)
    item.addLegend(offset=(-10, 10))
    widget.follow_palette()
    return widget


class ScatterView(QWidget):
    """Each prediction against its target, with the line of perfect predictions
    (``scatterPlot``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot_widget("actual", "predicted")
        self.plot.setObjectName("scatterPlot")
        self.ideal = self.plot.plot([], [], pen=IDEAL_PEN, name="predicted = actual")
        self.points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(40, 90, 200, 140))
        self.plot.addItem(self.points)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def show_result(self, result: Evaluation) -> None:
        """Plot every (actual, predicted) value of ``result`` (thinned beyond 20000)."""
        if result.predicted is None or result.actual is None:
            return
        x = np.asarray(result.actual, dtype=np.float64).ravel()
        y = np.asarray(result.predicted, dtype=np.float64).ravel()
        if x.size > MAX_POINTS:
            keep = np.linspace(0, x.size - 1, MAX_POINTS).astype(int)
            x, y = x[keep], y[keep]
        self.points.setData(x, y)
        if x.size:
            low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            self.ideal.setData([low, high], [low, high])


class SeriesView(QWidget):
    """The predicted and true series of one sequence over time (``seriesPlot``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: Evaluation | None = None
        self.plot = plot_widget("time step", "value")
        self.plot.setObjectName("seriesPlot")
        self.true_curve = self.plot.plot([], [], pen=TRUE_PEN, name="true")
        self.pred_curve = self.plot.plot([], [], pen=PRED_PEN, name="predicted")
        self.sample = QSpinBox()
        self.sample.setObjectName("seriesSample")
        self.sample.valueChanged.connect(self._draw)
        row = QHBoxLayout()
        row.addWidget(QLabel("Sequence"))
        row.addWidget(self.sample)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)

    def show_result(self, result: Evaluation) -> None:
        """Show sequence 0 of ``result``; the spin box picks another."""
        self.result = result
        count = 0 if result.actual is None else len(result.actual)
        self.sample.setRange(0, max(count - 1, 0))
        self.sample.setSuffix(f" of {count}")
        self._draw()

    def _draw(self) -> None:
        result = self.result
        if result is None or result.predicted is None or result.actual is None:
            return
        index = self.sample.value()
        true = np.asarray(result.actual[index], dtype=np.float64).reshape(len(result.actual[0]), -1)
        pred = np.asarray(result.predicted[index], dtype=np.float64).reshape(true.shape[0], -1)
        steps = np.arange(true.shape[0])
        self.true_curve.setData(steps, true[:, 0])
        self.pred_curve.setData(steps, pred[:, 0])
