"""The live plots' colours from the widget's palette, so they follow light and dark appearance.

pyqtgraph draws with its own configured colours (white background, grey axes) whatever the
system palette; :func:`apply_palette` gives a plot the palette's base colour as background, its
text colour to the axes, their labels, the grid and the legend, and a translucent base to the
legend box. :class:`~app.ui.training.cadence.TimedPlotWidget` calls it when it is built and
again on every palette change. The plots' own legends are :class:`PlotLegend` rows beside the
plot area (never over the data); curve colours come from :func:`distinct_colours`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

AXES = ("left", "bottom", "right", "top")
AXIS_ALPHA = 170  # axis lines and ticks a little softer than the text
LEGEND_ALPHA = 200


def plot_colours(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, foreground) of a plot under ``palette``: its Base and Text colours."""
    return (
        QColor(palette.color(QPalette.ColorRole.Base)),
        QColor(palette.color(QPalette.ColorRole.Text)),
    )


def apply_palette(widget: pg.PlotWidget, palette: QPalette) -> None:
    """Colour ``widget``'s background, axes, axis labels, grid and legend from ``palette``."""
    background, text = plot_colours(palette)
    widget.setBackground(background)
    item = widget.getPlotItem()
    line = QColor(text)
    line.setAlpha(AXIS_ALPHA)
    for name in AXES:
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(line))  # the grid is drawn with the axis pen, faded
        axis.setTextPen(pg.mkPen(text))  # tick numbers and the axis label
    if item.legend is not None:
        _colour_legend(item.legend, background, text)


def _colour_legend(legend: pg.LegendItem, background: QColor, text: QColor) -> None:
    """Legend text in the text colour on a translucent background; existing labels are
    re-rendered (pyqtgraph applies a new colour only to labels set afterwards)."""
    box = QColor(background)
    box.setAlpha(LEGEND_ALPHA)
    legend.setBrush(pg.mkBrush(box))
    frame = QColor(text)
    frame.setAlpha(80)
    legend.setPen(pg.mkPen(frame))
    legend.setLabelTextColor(text)
    for _sample, label in legend.items:
        label.setText(label.text)


# A qualitative palette (Tableau 10) that reads on light and dark backgrounds alike.
DISTINCT = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
MIN_DISTANCE = 110.0
"""Two curve colours closer than this (:func:`colour_distance`) read as one."""


def colour_distance(a: QColor, b: QColor) -> float:
    """How far apart two colours look ("redmean" weighted RGB distance, 0 to about 765)."""
    mean_red = (a.red() + b.red()) / 2
    dr, dg, db = a.red() - b.red(), a.green() - b.green(), a.blue() - b.blue()
    return float(
        ((2 + mean_red / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean_red) / 256) * db * db)
        ** 0.5
    )


def _rgb(colours: Sequence[QColor]) -> np.ndarray:
    """``colours`` as an (n, 3) float array of red, green and blue."""
    return np.array([(c.red(), c.green(), c.blue()) for c in colours], dtype=float).reshape(-1, 3)


def _nearest(candidates: np.ndarray, given: np.ndarray) -> np.ndarray:
    """For each candidate row, its :func:`colour_distance` to the nearest ``given`` row
    (infinite when nothing is given yet)."""
    if not len(given):
        return np.full(len(candidates), np.inf)
    mean_red = (candidates[:, None, 0] + given[None, :, 0]) / 2
    d = candidates[:, None, :] - given[None, :, :]
    squared = (
        (2 + mean_red / 256) * d[..., 0] ** 2
        + 4 * d[..., 1] ** 2
        + (2 + (255 - mean_red) / 256) * d[..., 2] ** 2
    )
    nearest: np.ndarray = np.sqrt(squared.min(axis=1))
    return nearest


def distinct_colours(preferred: Mapping[str, QColor]) -> dict[str, QColor]:
    """One colour per key that no other key shares: a key keeps its preferred colour (e.g. its
    node category's hue) while that is far from every colour given out before it, else it gets
    the palette colour farthest from those (two Linear layers: blue and orange, not two blues).
    Vectorised: a 500-node graph's colours take milliseconds, not seconds.
    """
    given: dict[str, QColor] = {}
    rows = np.empty((len(preferred), 3))
    pool = [QColor(c) for c in DISTINCT]
    for index, (key, colour) in enumerate(preferred.items()):
        taken = rows[: len(given)]
        if _nearest(_rgb([colour]), taken)[0] >= MIN_DISTANCE:
            chosen = QColor(colour)
        else:
            candidates = [*pool, QColor.fromHsv(index * 137 % 360, 170, 220)]
            chosen = QColor(candidates[int(np.argmax(_nearest(_rgb(candidates), taken)))])
        rows[len(given)] = _rgb([chosen])[0]
        given[key] = chosen
    return given


def legend_html(entries: Sequence[tuple[str, QColor, bool]]) -> str:
    """Legend text: a coloured line sample (dashed when asked) before each escaped name."""
    parts = []
    for name, colour, dashed in entries:
        sample = "╍╍" if dashed else "━━"
        parts.append(
            f'<span style="white-space:nowrap"><span style="color:{colour.name()}">{sample}'
            f"</span>&nbsp;{html.escape(name)}</span>"
        )
    return " &nbsp; ".join(parts)


class PlotLegend(QLabel):
    """A plot's legend beside the plot area rather than on it, so it never covers data; the
    entries wrap onto more lines in a narrow dock. Its text follows the palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotLegend")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setForegroundRole(QPalette.ColorRole.Text)
        self.entries: list[tuple[str, QColor, bool]] = []

    def set_entries(self, entries: Sequence[tuple[str, QColor, bool]]) -> None:
        """Show ``(name, colour, dashed)`` entries in order."""
        self.entries = list(entries)
        self.setText(legend_html(self.entries))
        self.setVisible(bool(self.entries))
