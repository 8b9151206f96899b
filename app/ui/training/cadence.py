"""Refresh cadence of the live plots, bounded by what their updates cost the GUI thread.

While training runs, every moment the GUI thread spends in Python (setData, pyqtgraph's paint
code) holds the GIL that the training thread needs. A plot therefore measures what an update
costs it (pushing the data plus the next paint) and waits long enough between updates that the
cost stays a small share of the wall time (:data:`GUI_SHARE`).
"""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from app.ui.training.plot_theme import apply_palette

GUI_SHARE = 0.04
MIN_INTERVAL_MS = 200
MAX_INTERVAL_MS = 1000


class TimedPlotWidget(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph has no type hints
    """A PlotWidget that remembers how long its last paint took (``paint_s``).

    Its axes show plain numbers (no automatic SI prefix, which relabels the axis as values
    change) and are cached as pixmaps: a curve update repaints the axes (and the grid they
    draw) by copying pixels, without pyqtgraph's Python paint code; only a range change
    redraws them. Its colours follow the palette (:func:`follow_palette`, again on every
    palette change).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paint_s = 0.0
        for name in ("left", "bottom", "right"):
            axis = self.getPlotItem().getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def follow_palette(self) -> None:
        """Colour the background, axes, grid and legend from the widget's palette."""
        apply_palette(self, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        """The palette changed (light/dark switch): recolour."""
        super().changeEvent(event)
        changed = event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if changed and getattr(self, "plotItem", None) is not None:  # None while being built
            self.follow_palette()

    def paintEvent(self, event: Any) -> None:
        """Paint, timing it."""
        started = time.perf_counter()
        super().paintEvent(event)
        self.paint_s = time.perf_counter() - started


def on_screen(widget: QWidget) -> bool:
    """Whether any of ``widget`` can be seen: a dock behind another dock's tab counts as
    visible to Qt but has an empty visible region."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class Cadence:
    """The interval between plot updates: the last update's cost (data push plus paint)
    divided by :data:`GUI_SHARE`, within [MIN_INTERVAL_MS, MAX_INTERVAL_MS]: about 5
    updates a second at most, fewer when they cost more."""

    def __init__(self) -> None:
        self.interval_ms = MIN_INTERVAL_MS

    def update(self, push_s: float, paint_s: float) -> int:
        """Take the measured costs of the last update; return the next interval in ms."""
        wanted = 1000.0 * (push_s + paint_s) / GUI_SHARE
        self.interval_ms = int(min(MAX_INTERVAL_MS, max(MIN_INTERVAL_MS, wanted)))
        return self.interval_ms
