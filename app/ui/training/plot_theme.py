"""The live plots' colours from the widget's palette, so they follow light and dark appearance.

pyqtgraph draws with its own configured colours (white background, grey axes) whatever the
system palette; :func:`apply_palette` gives a plot the palette's base colour as background, its
text colour to the axes, their labels, the grid and the legend, and a translucent base to the
legend box. :class:`~app.ui.training.cadence.TimedPlotWidget` calls it when it is built and
again on every palette change.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

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
