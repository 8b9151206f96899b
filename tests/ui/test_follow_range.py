"""FollowRange: live plot ranges that change rarely, so the axes are seldom redrawn."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from app.ui.training.follow_range import FollowRange


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    yield widget.getPlotItem()  # the widget stays referenced while the test runs


def count_range_changes(plot: pg.PlotItem) -> list[object]:
    changes: list[object] = []
    plot.getViewBox().sigRangeChanged.connect(lambda *args: changes.append(args))
    return changes


def test_a_planned_run_keeps_its_x_range_and_a_falling_loss_its_y_range(plot) -> None:
    follow = FollowRange(plot)
    follow.plan(1000)
    changes = count_range_changes(plot)
    rng = np.random.default_rng(0)
    losses = np.exp(-np.arange(1000) / 200) * 2 + rng.random(1000) * 0.05
    for end in range(50, 1001, 50):
        follow.fit(end, [losses[:end]], from_zero=True)
    assert len(changes) == 1  # the first fit only
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    assert x0 == 0 and 1000 <= x1 <= 1030
    assert y0 <= 0 < losses.min() and losses.max() <= y1
    follow.fit(1500, [losses], from_zero=True)  # more epochs than planned: grows with room
    assert plot.getViewBox().viewRange()[0][1] >= 1500


def test_without_a_plan_the_x_range_grows_in_steps(plot) -> None:
    follow = FollowRange(plot)
    changes = count_range_changes(plot)
    for end in range(10, 1001, 10):
        follow.fit(end, [np.ones(end)])
    assert 1 < len(changes) < 25
    assert plot.getViewBox().viewRange()[0][1] >= 1000


def test_a_minimum_margin_is_kept_without_refitting_every_time(plot) -> None:
    follow = FollowRange(plot, min_margin=1.0)
    changes = count_range_changes(plot)
    rng = np.random.default_rng(1)
    first = rng.normal(-2.0, 0.3, 10)
    follow.fit(10, [first])
    y0, y1 = plot.getViewBox().viewRange()[1]
    assert y0 <= first.min() - 1.0 + 1e-9 and y1 >= first.max() + 1.0 - 1e-9  # a decade each
    seen = [first]
    for end in range(20, 501, 10):
        seen.append(rng.normal(-2.0, 0.3, end))
        follow.fit(end, [seen[-1]])
    y0, y1 = plot.getViewBox().viewRange()[1]
    assert y0 <= min(v.min() for v in seen) and y1 >= max(v.max() for v in seen)
    assert len(changes) < 15
