"""Axis ranges of the live plots that follow the data in steps, not on every update.

pyqtgraph's auto-range sets a new view range whenever a curve's data changes, and a new range
means relaying out and redrawing the axes, tick labels and grid in Python: during training, on
every update. :class:`FollowRange` keeps the range while the data fits it comfortably and, when
it must change, leaves headroom (more on the right, where the steps grow), so a run changes the
range a few dozen times rather than at every update. When the run says where it will end
(:meth:`FollowRange.plan`), the x range covers that from the start, and a loss that cannot be
negative keeps zero at the bottom: then a run redraws its axes about once.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg

X_HEADROOM = 0.25  # the x range ends this much past the last step when it grows
X_PLANNED_MARGIN = 0.02  # room past the planned last step
Y_MARGIN = 0.1  # share of the data's span added above and below when the y range changes
Y_SHRINK = 0.5  # refit when the data fills less than this share of the y range


class FollowRange:
    """Keeps a plot's view over all of its data (steps from 0), changing the range in steps.

    When the user pans or zooms, the view is theirs until the plot's auto-range button ("A")
    is pressed or :meth:`reset` is called (a new run).
    """

    def __init__(self, plot: pg.PlotItem, min_margin: float = 0.0) -> None:
        self._view = plot.getViewBox()
        self._min_margin = min_margin  # at least this much above and below (view units)
        self._view.disableAutoRange()
        self._x: float | None = None
        self._y: tuple[float, float] | None = None
        self._planned = 0.0
        self.following = True
        self._view.sigRangeChangedManually.connect(self._on_manual)
        self._view.sigStateChanged.connect(self._on_state)

    def reset(self) -> None:
        """Follow the data again, from scratch (a new run, another scale)."""
        self._x, self._y, self.following = None, None, True

    def plan(self, last_step: float) -> None:
        """The run under way is expected to end at ``last_step``: size the x range for it."""
        self._planned = float(last_step)

    def fit(self, last_step: float, ys: Iterable[np.ndarray], from_zero: bool = False) -> None:
        """Make the view cover steps 0..``last_step`` and every finite value of ``ys`` (in
        view coordinates: log10 of the data on a log axis), changing it only when needed.
        ``from_zero``: the values are never negative, so the y range starts at zero."""
        if not self.following:
            return
        finite = [y[np.isfinite(y)] for y in ys]  # a log axis gives -inf for 0
        finite = [y for y in finite if y.size]
        if not finite or last_step <= 0:
            return
        lo = float(min(y.min() for y in finite))
        hi = float(max(y.max() for y in finite))
        if from_zero and lo >= 0:
            lo = 0.0
        if last_step <= self._planned:
            x = self._planned * (1 + X_PLANNED_MARGIN)
        elif self._x is not None and last_step <= self._x:
            x = self._x
        else:
            x = last_step * (1 + X_HEADROOM)
        fits = self._y is not None and _fits(self._y, lo, hi, self._min_margin)
        y = self._y if fits else _padded(lo, hi, self._min_margin)
        if (x, y) != (self._x, self._y):
            self._x, self._y = x, y
            self._view.setRange(xRange=(0.0, x), yRange=y, padding=0.0)

    def _on_manual(self, *_: object) -> None:
        self.following = False

    def _on_state(self, *_: object) -> None:
        """The auto-range button: show all the data once, then follow it in steps again."""
        if any(self._view.autoRangeEnabled()):
            self._view.disableAutoRange()
            self._view.autoRange()
            self.reset()


def _fits(current: tuple[float, float], lo: float, hi: float, min_margin: float) -> bool:
    a, b = current
    return a <= lo and hi <= b and (hi - lo) >= Y_SHRINK * (b - a - 2 * min_margin)


def _padded(lo: float, hi: float, min_margin: float) -> tuple[float, float]:
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    margin = max(Y_MARGIN * span, min_margin)
    return lo - margin, hi + margin


def log10_or_nan(y: np.ndarray) -> np.ndarray:
    """log10 of the positive values, NaN elsewhere (what a log axis can show)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(y > 0, y, np.nan))
