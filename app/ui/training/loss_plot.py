"""The live loss plot: training loss per step (raw and smoothed), validation per epoch."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.ui.training.cadence import MIN_INTERVAL_MS, Cadence, TimedPlotWidget, on_screen
from app.ui.training.follow_range import FollowRange, log10_or_nan
from app.ui.training.plot_theme import PlotLegend
from app.ui.training.series import Series

SMOOTHING = 0.9
"""Weight of the past in the smoothed curve (TensorBoard's slider; 0.9 lags about 9 steps)."""

RAW_PEN = pg.mkPen((120, 160, 220, 110), width=1)
SMOOTH_PEN = pg.mkPen((40, 90, 200), width=2)
VAL_PEN = pg.mkPen((230, 120, 30), width=2)
ACC_PEN = pg.mkPen((40, 160, 80), width=2, style=pg.QtCore.Qt.PenStyle.DashLine)


def _plot_widget(y_label: str) -> pg.PlotWidget:
    widget = TimedPlotWidget()
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("left", y_label)
    item.setLabel("bottom", "step")
    widget.follow_palette()
    return widget


def _curve(
    plot: pg.PlotWidget, name: str, pen: pg.QtGui.QPen, symbol: str | None = None
) -> pg.PlotDataItem:
    curve = plot.plot(
        [],
        [],
        name=name,
        pen=pen,
        symbol=symbol,
        symbolSize=6,
        symbolBrush=pen.color() if symbol else None,
        symbolPen=None,
    )
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


class LossPlot(QWidget):
    """Loss per training step (raw and smoothed), validation loss and accuracy per epoch
    (accuracy on its own 0-1 axis on the right, for classifiers).

    Points are kept for the whole run in growable arrays; persistent curves are refreshed by
    a timer only when new data arrived, at most 5 times a second and less often when an
    update costs more (:class:`Cadence`), with automatic peak downsampling and clip-to-view so
    long runs stay smooth; validation curves are pushed only when an epoch added to them.
    The object name is ``lossPlot``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.raw = Series()
        self.smoothed = Series()
        self.val_loss = Series()
        self.val_accuracy = Series()
        self._ema: float | None = None
        self._ema_weight = 0.0
        self._dirty = False
        self._val_dirty = False
        self._cadence = Cadence()
        self._push_s = 0.0

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setObjectName("lossLogScale")
        self.log_scale.toggled.connect(self._on_log_toggled)
        self.summary = QLabel("")
        self.summary.setObjectName("lossSummary")
        self.summary.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        header.addWidget(self.log_scale)

        self.loss_widget = _plot_widget("loss")
        self.raw_curve = _curve(self.loss_widget, "train (raw)", RAW_PEN)
        self.smooth_curve = _curve(self.loss_widget, "train (smoothed)", SMOOTH_PEN)
        self.val_curve = _curve(self.loss_widget, "validation", VAL_PEN, symbol="o")
        self.acc_view, self.acc_curve = self._accuracy_axis()
        self.follow = FollowRange(self.loss_widget.getPlotItem())
        self.legend = PlotLegend()  # beside the plot area: never over the curves
        self._update_legend()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.loss_widget, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(MIN_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        self._timer.start()

    def clear(self) -> None:
        """Forget every point (a new run starts)."""
        for series in (self.raw, self.smoothed, self.val_loss, self.val_accuracy):
            series.clear()
        self._ema = None
        self._ema_weight = 0.0
        self.summary.setText("")
        self.follow.reset()
        self._dirty = self._val_dirty = True
        self.refresh()

    def _accuracy_axis(self) -> tuple[pg.ViewBox, pg.PlotDataItem]:
        """A second view box sharing the x axis, with its own 0-1 axis on the right."""
        item = self.loss_widget.getPlotItem()
        view = pg.ViewBox(enableMouse=False)
        item.scene().addItem(view)
        view.setXLink(item)
        view.setYRange(0.0, 1.0, padding=0.02)
        axis = item.getAxis("right")
        axis.linkToView(view)
        axis.setLabel("validation accuracy")
        curve = pg.PlotDataItem(
            [],
            [],
            pen=ACC_PEN,
            symbol="o",
            symbolSize=6,
            symbolBrush=ACC_PEN.color(),
            symbolPen=None,
        )
        view.addItem(curve)
        item.vb.sigResized.connect(lambda: view.setGeometry(item.vb.sceneBoundingRect()))
        item.showAxis("right", False)
        view.setVisible(False)
        curve.setVisible(False)
        return view, curve

    @staticmethod
    def _show_accuracy(
        item: pg.PlotItem, view: pg.ViewBox, curve: pg.PlotDataItem, on: bool
    ) -> None:
        if view.isVisible() == on and curve.isVisible() == on:
            return
        item.showAxis("right", on)
        view.setVisible(on)
        curve.setVisible(on)

    def set_classifier(self, classifier: bool) -> None:
        """Show validation accuracy on a right-hand axis (classification tasks) or hide it."""
        item = self.loss_widget.getPlotItem()
        self._show_accuracy(item, self.acc_view, self.acc_curve, classifier)
        self._update_legend()

    def _update_legend(self) -> None:
        entries = [
            ("train (raw)", RAW_PEN.color(), False),
            ("train (smoothed)", SMOOTH_PEN.color(), False),
            ("validation", VAL_PEN.color(), False),
        ]
        if self.acc_curve.isVisible():
            entries.append(("validation accuracy", ACC_PEN.color(), True))
        self.legend.set_entries(entries)

    def add_steps(self, steps: np.ndarray, losses: np.ndarray) -> None:
        """Append training losses at the given global step numbers."""
        steps = np.asarray(steps, dtype=np.float64)
        losses = np.asarray(losses, dtype=np.float64)
        self.raw.extend(steps, losses)
        smooth = np.empty_like(losses)
        for i, loss in enumerate(losses):
            smooth[i] = self._smooth(float(loss))
        self.smoothed.extend(steps, smooth)
        self._dirty = True

    def add_epoch(self, step: float, val_loss: float | None, accuracy: float | None) -> None:
        """Append one epoch's validation loss and accuracy (either may be None)."""
        if val_loss is not None:
            self.val_loss.append(step, val_loss)
        if accuracy is not None:
            self.val_accuracy.append(step, accuracy)
        self._dirty = self._val_dirty = True

    def plan(self, last_step: int) -> None:
        """The run under way should end at global step ``last_step``: the x axis covers it."""
        self.follow.plan(last_step)
        self._dirty = True  # refit at the next refresh

    def point_count(self) -> int:
        """How many training-loss points the plot holds."""
        return len(self.raw)

    def _on_tick(self) -> None:
        """The timer: refresh unless the plot cannot be seen (behind the Gradients tab); it
        catches up when its dock is raised (``refresh`` on the dock's visibilityChanged)."""
        if on_screen(self):
            self.refresh()

    def refresh(self) -> None:
        """Push new data to the curves (cheap when nothing changed)."""
        self._timer.setInterval(self._cadence.update(self._push_s, self.loss_widget.paint_s))
        if not self._dirty:
            return
        started = time.perf_counter()
        self._dirty = False
        self.raw_curve.setData(self.raw.x, self.raw.y)
        self.smooth_curve.setData(self.smoothed.x, self.smoothed.y)
        if self._val_dirty:
            self._val_dirty = False
            self.val_curve.setData(self.val_loss.x, self.val_loss.y)
            self.acc_curve.setData(self.val_accuracy.x, self.val_accuracy.y)
        ys = [self.raw.y, self.smoothed.y, self.val_loss.y]
        log = self.log_scale.isChecked()
        if log:
            ys = [log10_or_nan(y) for y in ys]
        self.follow.fit(self.raw.x[-1] if len(self.raw) else 0.0, ys, from_zero=not log)
        self._push_s = time.perf_counter() - started

    def _smooth(self, loss: float) -> float:
        """Debiased exponential moving average, as TensorBoard smooths: with weight ``w`` the
        n-th value is ``sum(w**(n-i) * (1-w) * x_i) / (1 - w**(n+1))``, so the first point is
        the loss itself rather than a fraction of it; non-finite losses leave it unchanged."""
        if not math.isfinite(loss):
            return self._ema / self._ema_weight if self._ema is not None else math.nan
        self._ema = loss * (1 - SMOOTHING) + (self._ema or 0.0) * SMOOTHING
        self._ema_weight = (1 - SMOOTHING) + self._ema_weight * SMOOTHING
        return self._ema / self._ema_weight

    def _on_log_toggled(self, checked: bool) -> None:
        self.loss_widget.getPlotItem().setLogMode(y=checked)
        self.follow.reset()
        self._dirty = True
        self.refresh()
