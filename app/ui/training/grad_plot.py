"""The live gradient plot: the L2 norm of each node's gradient over time, log scale."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.ui.training.cadence import MIN_INTERVAL_MS, Cadence, TimedPlotWidget, on_screen
from app.ui.training.follow_range import FollowRange, log10_or_nan
from app.ui.training.plot_theme import PlotLegend, distinct_colours
from app.ui.training.series import Series

HOVER_PIXELS = 8.0
MODES = {"parameters": "Parameter gradients", "outputs": "Output gradients"}


def node_colours(base: Mapping[str, QColor]) -> dict[str, QColor]:
    """A distinct colour per node from their category colours: a node keeps its category's hue
    unless a node before it already took a colour close to it (two Linear layers: blue and a
    clearly different colour), see :func:`~app.ui.training.plot_theme.distinct_colours`."""
    return distinct_colours(base)


def merged(series: Sequence[Series]) -> tuple[np.ndarray, np.ndarray]:
    """The step-wise largest of several series (a block's curve: the largest norm inside it at
    each step); NaN wins, as the canvas colours it."""
    filled = [s for s in series if len(s)]
    if not filled:
        return np.zeros(0), np.zeros(0)
    if len(filled) == 1:
        return filled[0].x, filled[0].y
    first = filled[0].x
    if all(len(s) == len(first) and np.array_equal(s.x, first) for s in filled[1:]):
        return first, np.max(np.vstack([s.y for s in filled]), axis=0)  # measured together
    xs = np.concatenate([s.x for s in filled])
    ys = np.concatenate([s.y for s in filled])
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    steps, starts = np.unique(xs, return_index=True)
    return steps, np.maximum.reduceat(ys, starts)


class GradPlot(QWidget):
    """One curve per node, each in a colour of its own, showing its gradient norm per step.

    Two sets of curves are kept: the gradient of each parameterised node's parameters and the
    gradient arriving at each node's output; a combo box picks which is shown. Hovering a curve
    names its node (``hover_label``). The object name is ``gradPlot``.

    Norms arrive by flat id (what runs); :meth:`set_groups` says which curve each belongs to
    (a block node's curve is the largest norm inside it); by default each is its own curve.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradPlot")
        self._names: dict[str, str] = {}
        self._base: dict[str, QColor] = {}  # category colours, made distinct on first use
        self._colours: dict[str, QColor] | None = {}
        self._series: dict[str, dict[str, Series]] = {mode: {} for mode in MODES}
        self._groups: dict[str, list[str]] | None = None
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._mode = "parameters"
        self._dirty = False
        self._cadence = Cadence()
        self._push_s = 0.0

        self.mode_box = QComboBox()
        for key, text in MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.currentIndexChanged.connect(self._on_mode_changed)
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("gradHover")
        header = QHBoxLayout()
        header.addWidget(self.mode_box)
        header.addWidget(self.hover_label, 1)

        self.plot_widget = TimedPlotWidget()
        item = self.plot_widget.getPlotItem()
        item.setLogMode(y=True)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLabel("left", "gradient L2 norm")
        item.setLabel("bottom", "step")
        self.plot_widget.follow_palette()
        self.legend = PlotLegend()  # beside the plot area: never over the curves
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.follow = FollowRange(item, min_margin=1.0)  # a decade: norms drift over decades

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot_widget, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(MIN_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        self._timer.start()

    @property
    def mode(self) -> str:
        """``"parameters"`` or ``"outputs"``: which gradients the curves show."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Show parameter gradients or output gradients."""
        self.mode_box.setCurrentIndex(list(MODES).index(mode))

    def set_nodes(self, names: Mapping[str, str], colours: Mapping[str, QColor]) -> None:
        """Name and colour the nodes (display name and category colour, by node id); each
        curve gets a distinct colour (:func:`node_colours`, worked out when a curve is first
        drawn: opening a large graph does not wait for it)."""
        self._names = dict(names)
        self._base, self._colours = dict(colours), None
        for node_id, curve in self._curves.items():
            curve.setPen(self._pen(node_id))
        self._update_legend()

    def set_groups(self, groups: Mapping[str, Sequence[str]] | None) -> None:
        """Curve id -> the flat ids whose norms it shows (None: one curve per flat id)."""
        self._groups = {k: list(v) for k, v in groups.items()} if groups is not None else None
        for curve in self._curves.values():
            self.plot_widget.removeItem(curve)
        self._curves.clear()
        self._update_legend()
        self._dirty = True

    def _shown(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Curve id -> the points it draws, in the current mode."""
        table = self._series[self._mode]
        if self._groups is None:
            return {node_id: (s.x, s.y) for node_id, s in table.items()}
        shown = {}
        for key, flat_ids in self._groups.items():
            found = [table[f] for f in flat_ids if f in table]
            if found:
                shown[key] = merged(found)
        return shown

    def clear(self) -> None:
        """Forget every curve (a new run starts)."""
        for curve in self._curves.values():
            self.plot_widget.removeItem(curve)
        self._curves.clear()
        self._series = {mode: {} for mode in MODES}
        self.follow.reset()
        self.hover_label.setText("")
        self._update_legend()

    def plan(self, last_step: int) -> None:
        """The run under way should end at global step ``last_step``: the x axis covers it."""
        self.follow.plan(last_step)
        self._dirty = True  # refit at the next refresh

    def add_step(
        self, step: float, params: Mapping[str, float], outputs: Mapping[str, float]
    ) -> None:
        """Append one step's gradient norms (node id -> norm) for both curve sets."""
        for mode, norms in (("parameters", params), ("outputs", outputs)):
            table = self._series[mode]
            for node_id, norm in norms.items():
                table.setdefault(node_id, Series()).append(step, norm)
        self._dirty = True

    def add_steps(self, steps: np.ndarray, batch: Sequence[Any]) -> None:
        """Append a batch of step metrics (``param_grad_norms``/``output_grad_norms`` dicts)
        at the given step numbers, one block per node."""
        for mode, field in (("parameters", "param_grad_norms"), ("outputs", "output_grad_norms")):
            columns: dict[str, tuple[list[float], list[float]]] = {}
            for x, m in zip(steps.tolist(), batch, strict=True):  # one pass over the batch
                for node_id, norm in getattr(m, field).items():
                    xs, ys = columns.setdefault(node_id, ([], []))
                    xs.append(x)
                    ys.append(norm)
            table = self._series[mode]
            for node_id, (xs, ys) in columns.items():
                table.setdefault(node_id, Series()).extend(np.array(xs), np.array(ys))
        self._dirty = True

    def node_ids(self) -> list[str]:
        """The nodes that have a curve in the current mode."""
        return list(self._shown())

    def curve(self, node_id: str) -> pg.PlotDataItem | None:
        """The curve drawn for a node in the current mode, if any."""
        return self._curves.get(node_id)

    def showEvent(self, event: Any) -> None:
        """Shown (the window or a floating dock): catch up at once. A dock raised from behind
        another's tab is not re-shown; its ``visibilityChanged`` refreshes it (``install``)."""
        super().showEvent(event)
        self.refresh()

    def _on_tick(self) -> None:
        """The timer: at most 5 times a second, less often when an update costs more
        (:class:`Cadence`); nothing while the plot is hidden (it catches up when shown)."""
        self._timer.setInterval(self._cadence.update(self._push_s, self.plot_widget.paint_s))
        if on_screen(self):
            self.refresh()

    def refresh(self) -> None:
        """Push new data to the curves, creating a curve for each new node."""
        if not self._dirty:
            return
        started = time.perf_counter()
        self._dirty = False
        shown = self._shown()
        for node_id, (xs, ys) in shown.items():
            curve = self._curves.get(node_id)
            if curve is None:
                curve = self.plot_widget.plot(
                    [], [], pen=self._pen(node_id), name=self._names.get(node_id, node_id)
                )
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
                self._curves[node_id] = curve
                self._update_legend()
            curve.setData(xs, np.maximum(ys, 1e-30))
        table = shown.values()
        self.follow.fit(
            max((x[-1] for x, _ in table if len(x)), default=0.0),
            [log10_or_nan(np.maximum(y, 1e-30)) for _, y in table],
        )
        self._push_s = time.perf_counter() - started

    def node_at(self, scene_pos: QPointF) -> str | None:
        """The node whose curve passes within a few pixels of a scene position."""
        view = self.plot_widget.getPlotItem().getViewBox()
        point = view.mapSceneToView(scene_pos)
        best, best_distance = None, HOVER_PIXELS
        for node_id, (xs, ys) in self._shown().items():
            if len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, point.x()), 0, len(xs) - 1))
            y = float(np.log10(max(ys[i], 1e-30)))
            on_screen = view.mapViewToScene(QPointF(float(xs[i]), y))
            distance = abs(on_screen.y() - scene_pos.y())
            if distance < best_distance:
                best, best_distance = node_id, distance
        return best

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        node_id = self.node_at(scene_pos)
        for other, curve in self._curves.items():
            curve.setPen(self._pen(other, bold=other == node_id))
        if node_id is None:
            self.hover_label.setText("")
            self.plot_widget.setToolTip("")
            return
        _, ys = self._shown()[node_id]
        text = f"{self._names.get(node_id, node_id)}: {ys[-1]:.3g}"
        self.hover_label.setText(text)
        self.plot_widget.setToolTip(text)

    def _on_mode_changed(self, index: int) -> None:
        self._mode = self.mode_box.itemData(index)
        for curve in self._curves.values():
            self.plot_widget.removeItem(curve)
        self._curves.clear()
        self._update_legend()
        self.follow.reset()
        self._dirty = True
        self.refresh()

    def _update_legend(self) -> None:
        self.legend.set_entries(
            [(self._names.get(n, n), self._colour(n), False) for n in self._curves]
        )

    def _colour(self, node_id: str) -> QColor:
        if self._colours is None:
            self._colours = node_colours(self._base)
        return self._colours.get(node_id, QColor(90, 90, 90))

    def _pen(self, node_id: str, bold: bool = False) -> pg.QtGui.QPen:
        return pg.mkPen(self._colour(node_id), width=3 if bold else 1.5)
