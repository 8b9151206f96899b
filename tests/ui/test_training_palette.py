"""The loss and gradient plots follow the application palette, light and dark, also when it
changes while they are open."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.ui.training.grad_plot import GradPlot
from app.ui.training.loss_plot import LossPlot

DARK_BASE, DARK_TEXT = QColor("#1e1e1e"), QColor("#e6e6e6")


def dark_palette() -> QPalette:
    """A dark palette as a system in dark mode gives one."""
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, DARK_TEXT.name()),
        (QPalette.ColorRole.Base, DARK_BASE.name()),
        (QPalette.ColorRole.AlternateBase, "#262626"),
        (QPalette.ColorRole.Text, DARK_TEXT.name()),
        (QPalette.ColorRole.Button, "#333333"),
        (QPalette.ColorRole.ButtonText, DARK_TEXT.name()),
    ):
        palette.setColor(role, QColor(colour))
    return palette


@pytest.fixture
def restore_palette() -> Iterator[QPalette]:
    """The application palette before the test, set back afterwards whatever happens."""
    app = QApplication.instance()
    before = QPalette(app.palette())
    try:
        yield before
    finally:
        app.setPalette(before)
        QApplication.processEvents()


def plot_background(widget) -> QColor:
    """The commonest colour inside the plot's view box (the background between grid lines),
    from a grab of the widget as it is drawn."""
    image = widget.grab().toImage()
    box = widget.getPlotItem().getViewBox()
    rect = widget.mapFromScene(box.sceneBoundingRect()).boundingRect()
    rect = rect.intersected(QRect(0, 0, image.width(), image.height())).adjusted(4, 4, -4, -4)
    pixels = Counter(
        image.pixelColor(x, y).rgb()
        for x in range(rect.left(), rect.right(), 3)
        for y in range(rect.top(), rect.bottom(), 3)
    )
    return QColor.fromRgb(pixels.most_common(1)[0][0])


def filled_plots(qtbot) -> tuple[LossPlot, GradPlot]:
    """A loss plot and a gradient plot with some points, shown."""
    loss, grad = LossPlot(), GradPlot()
    steps = np.arange(1, 60, dtype=float)
    loss.add_steps(steps, 2.0 / np.sqrt(steps))
    loss.add_epoch(30.0, 0.5, 0.8)
    loss.set_classifier(True)
    grad.set_nodes({"a": "Linear"}, {"a": QColor(200, 80, 80)})
    for step in steps:
        grad.add_step(step, {"a": 1.0 / step}, {"a": 0.5 / step})
    for widget in (loss, grad):
        qtbot.addWidget(widget)
        widget.resize(520, 300)
        widget.show()
        qtbot.waitExposed(widget)
        widget.refresh()
    return loss, grad


def assert_follows(plot_widget, base: QColor, text: QColor) -> None:
    """Background, axis text, axis labels and legend labels in the palette's colours."""
    QApplication.processEvents()
    background = plot_background(plot_widget)
    assert abs(background.lightness() - base.lightness()) <= 3, background.name()
    item = plot_widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        assert axis.textPen().color().rgb() == text.rgb()
        assert text.name() in axis.label.toHtml().lower()
    legend = plot_widget.parent().legend  # beside the plot, in the palette's text colour
    assert legend.palette().color(legend.foregroundRole()).rgb() == text.rgb()


def test_plots_turn_dark_with_the_palette_and_back(qtbot, restore_palette) -> None:
    loss, grad = filled_plots(qtbot)
    light = restore_palette
    light_base = light.color(QPalette.ColorRole.Base)
    light_text = light.color(QPalette.ColorRole.Text)
    assert light_base.lightness() > 200  # the offscreen default is a light palette
    for widget in (loss.loss_widget, grad.plot_widget):
        assert_follows(widget, light_base, light_text)

    QApplication.instance().setPalette(dark_palette())  # while the plots are open
    for widget in (loss.loss_widget, grad.plot_widget):
        assert_follows(widget, DARK_BASE, DARK_TEXT)
        assert plot_background(widget).lightness() < 60

    QApplication.instance().setPalette(light)
    for widget in (loss.loss_widget, grad.plot_widget):
        assert_follows(widget, light_base, light_text)


def test_a_plot_built_under_a_dark_palette_is_dark(qtbot, restore_palette) -> None:
    QApplication.instance().setPalette(dark_palette())
    loss, grad = filled_plots(qtbot)
    for widget in (loss.loss_widget, grad.plot_widget):
        assert_follows(widget, DARK_BASE, DARK_TEXT)
