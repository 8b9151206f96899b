"""Plots a person can read: a distinct colour per gradient curve, legends beside the data (never
over it), and the smoothed loss as TensorBoard's debiased exponential moving average."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from app.graph.specs import Category
from app.ui.style import category_colour
from app.ui.training.grad_plot import GradPlot
from app.ui.training.loss_plot import SMOOTHING, LossPlot
from app.ui.training.plot_theme import MIN_DISTANCE, colour_distance, distinct_colours


def shown(qtbot, widget, size=(520, 320)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_two_linear_layers_get_clearly_different_gradient_colours(qtbot) -> None:
    plot = shown(qtbot, GradPlot())
    layers = category_colour(Category.LAYERS)
    nodes = ["dense1", "dense2", "dense3", "relu1", "logits"]
    names = {n: f"Linear '{n}'" for n in nodes}
    colours = {n: layers for n in nodes}
    colours["relu1"] = category_colour(Category.ACTIVATIONS)
    plot.set_nodes(names, colours)
    for step in range(1, 30):
        plot.add_step(float(step), {n: 1.0 / step for n in nodes}, {})
    plot.refresh()
    pens = {n: plot.curve(n).opts["pen"].color() for n in nodes}
    assert pens["dense1"] == layers  # the first of a category keeps the canvas hue
    for a in nodes:
        for b in nodes:
            if a < b:
                assert colour_distance(pens[a], pens[b]) >= MIN_DISTANCE, (a, b)
    many = distinct_colours({str(i): layers for i in range(12)})
    assert len({c.name() for c in many.values()}) == 12


def legend_clear_of_data(widget, legend, plot_widget) -> None:
    QApplication.processEvents()
    assert plot_widget.getPlotItem().legend is None  # nothing drawn over the curves
    assert legend.isVisibleTo(widget)
    on_widget = QRect(legend.mapTo(widget, legend.rect().topLeft()), legend.size())
    data = plot_widget.getPlotItem().vb.sceneBoundingRect().toRect()
    data.translate(plot_widget.mapTo(widget, data.topLeft()) - data.topLeft())
    assert not on_widget.intersects(data)


def test_legends_sit_beside_the_data(qtbot) -> None:
    loss = shown(qtbot, LossPlot())
    steps = np.arange(1, 200, dtype=float)
    loss.add_steps(steps, 2.0 / np.sqrt(steps))
    for epoch in range(1, 5):
        loss.add_epoch(epoch * 50.0, 0.4, 0.2 * epoch)
    loss.set_classifier(True)
    loss.refresh()
    legend_clear_of_data(loss, loss.legend, loss.loss_widget)
    names = [name for name, _colour, _dashed in loss.legend.entries]
    assert names == ["train (raw)", "train (smoothed)", "validation", "validation accuracy"]
    loss.set_classifier(False)
    assert "validation accuracy" not in loss.legend.text()
    grad = shown(qtbot, GradPlot())
    grad.set_nodes({"a": "Linear '<a>'"}, {"a": category_colour(Category.LAYERS)})
    grad.add_step(1.0, {"a": 0.5}, {})
    grad.refresh()
    legend_clear_of_data(grad, grad.legend, grad.plot_widget)
    assert "&lt;a&gt;" in grad.legend.text() and "<a>" not in grad.legend.text()


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """The debiased exponential moving average, written from its closed form."""
    out = []
    for n in range(len(values)):
        num = sum(weight ** (n - i) * (1 - weight) * values[i] for i in range(n + 1))
        out.append(num / (1 - weight ** (n + 1)))
    return out


@pytest.mark.parametrize("chunks", [[40], [1] * 40, [7, 13, 20]])
def test_smoothed_loss_is_the_debiased_moving_average(qtbot, chunks) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    losses = list(2.0 * np.exp(-np.arange(40) / 8) + np.random.default_rng(1).random(40) * 0.2)
    start = 0
    for size in chunks:  # the worker delivers steps in blocks of any size
        plot.add_steps(np.arange(start, start + size), np.array(losses[start : start + size]))
        start += size
    expected = tensorboard_smoothing(losses, SMOOTHING)
    assert plot.smoothed.y == pytest.approx(expected, rel=1e-12)
    assert SMOOTHING <= 0.9  # lags about w / (1 - w) steps: 9 at most
    lag = SMOOTHING / (1 - SMOOTHING)
    assert math.isclose(lag, 9.0) or lag < 9.0


def scalar_distinct_colours(preferred: dict[str, QColor]) -> dict[str, QColor]:
    """The rule of distinct_colours written one colour pair at a time (its first version)."""
    from app.ui.training.plot_theme import DISTINCT

    given: dict[str, QColor] = {}
    pool = [QColor(c) for c in DISTINCT]
    for index, (key, colour) in enumerate(preferred.items()):
        if all(colour_distance(colour, other) >= MIN_DISTANCE for other in given.values()):
            given[key] = QColor(colour)
            continue
        candidates = [*pool, QColor.fromHsv(index * 137 % 360, 170, 220)]
        given[key] = max(
            candidates,
            key=lambda c: min((colour_distance(c, o) for o in given.values()), default=0.0),
        )
    return given


def test_distinct_colours_follow_the_pairwise_rule_for_a_big_graph() -> None:
    hues = [QColor.fromHsv(h, 160, 200) for h in (210, 30, 120, 280)]
    preferred = {f"node{i}": hues[i % 7 % 4] for i in range(60)}
    fast = distinct_colours(preferred)
    assert {k: c.name() for k, c in fast.items()} == {
        k: c.name() for k, c in scalar_distinct_colours(preferred).items()
    }
    assert len(distinct_colours({f"n{i}": hues[0] for i in range(500)})) == 500
