"""The training room's widgets on plain NumPy data: loss plot, gradient plot, tensor view."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from app.ui.training.grad_plot import GradPlot, node_colours
from app.ui.training.loss_plot import LossPlot
from app.ui.training.series import Series
from app.ui.training.tensor_data import TensorEntry, colour_levels, histogram, picture, stats_text
from app.ui.training.tensor_view import TensorView


def test_series_grows_past_its_capacity() -> None:
    s = Series(capacity=2)
    for i in range(5):
        s.append(i, i * i)
    s.extend(np.arange(5, 8), np.arange(5, 8) ** 2)
    assert len(s) == 8
    assert s.y.tolist() == [i * i for i in range(8)]
    assert s.last() == (7.0, 49.0)
    with pytest.raises(ValueError, match="shape"):
        s.extend(np.zeros(2), np.zeros(3))


def test_loss_plot_keeps_every_point_and_smooths(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 300)
    plot.show()
    steps = np.arange(100_000)
    losses = 2.0 * np.exp(-steps / 20_000) + 0.1 * np.random.default_rng(0).random(100_000)
    plot.add_steps(steps, losses)
    plot.add_epoch(99_999, 0.5, 0.9)
    plot.refresh()
    qtbot.wait(50)
    assert plot.point_count() == 100_000
    drawn_x, _ = plot.raw_curve.getData()  # what is drawn: peak-downsampled to the width
    assert len(drawn_x) < 10_000
    assert len(plot.smoothed) == 100_000
    smooth = plot.smoothed.y
    assert np.std(np.diff(smooth)) < np.std(np.diff(losses)) / 10
    assert abs(smooth[0] - losses[0]) < 1e-12  # debiased: the first point is the loss itself
    _x, y = plot.val_curve.getData()
    assert list(y) == [0.5]


def test_loss_plot_log_scale_and_classifier_toggles(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.set_classifier(True)
    assert plot.acc_curve.isVisible()
    assert plot.loss_widget.getPlotItem().getAxis("right").isVisible()
    plot.log_scale.setChecked(True)
    assert plot.loss_widget.getPlotItem().ctrl.logYCheck.isChecked()
    plot.add_steps(np.arange(3), np.array([1.0, np.nan, 0.5]))
    assert np.isfinite(plot.smoothed.y).all()
    plot.set_classifier(False)
    assert not plot.acc_curve.isVisible()
    plot.clear()
    assert plot.point_count() == 0


def test_grad_plot_one_curve_per_node_with_hover_name(qtbot) -> None:
    plot = GradPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 300)
    plot.show()
    plot.set_nodes(
        {"a": "Linear 'a'", "b": "Linear 'b'"}, {"a": QColor("red"), "b": QColor("blue")}
    )
    for step in range(50):
        plot.add_step(step, {"a": 1.0, "b": 1e-4}, {"a": 0.5, "b": 2e-4, "relu": 0.1})
    plot.refresh()
    plot.plot_widget.getPlotItem().autoRange()
    assert sorted(plot.node_ids()) == ["a", "b"]
    assert plot.curve("a").opts["pen"].color() == QColor("red")
    assert plot.curve("b").opts["pen"].color() == QColor("blue")
    same = node_colours({"x": QColor("red"), "y": QColor("red"), "z": QColor("red")})
    assert len({c.name() for c in same.values()}) == 3 and same["x"] == QColor("red")
    view = plot.plot_widget.getPlotItem().getViewBox()
    over_b = view.mapViewToScene(QPointF(25, -4))  # log10(1e-4)
    assert plot.node_at(over_b) == "b"
    plot._on_mouse_moved(over_b)
    assert "Linear 'b'" in plot.hover_label.text()
    plot.set_mode("outputs")
    assert sorted(plot.node_ids()) == ["a", "b", "relu"]
    plot.clear()
    assert plot.node_ids() == []


def test_tensor_data_pictures() -> None:
    digits = np.arange(32 * 64, dtype=np.float32).reshape(32, 64)
    pic = picture(digits, image=True)
    assert pic.pixels.shape == (8, 8) and pic.is_image
    assert np.array_equal(pic.pixels.ravel(), digits[0])
    assert picture(digits).pixels.shape == (32, 64)
    assert picture(np.zeros((64, 10)), is_param=True).pixels.shape == (64, 10)
    assert picture(np.zeros((4, 3, 5, 6))).pixels.shape == (5, 6)
    assert picture(np.zeros((8, 2, 3, 3)), is_param=True).pixels.shape == (8, 18)
    assert picture(np.float32(3.0)) is None
    assert colour_levels(np.array([[-1.0, 3.0]]), symmetric=True) == (-3.0, 3.0)
    _edges, counts = histogram(np.array([0.0, 1.0, np.inf, 1.0]), bins=2)
    assert counts.tolist() == [1, 2]
    text = stats_text(np.array([[1.0, np.nan], [3.0, 5.0]], dtype=np.float32))
    assert "shape 2×2" in text and "float32" in text and "1 NaN/Inf" in text and "max 5" in text


def test_tensor_view_toggles_value_and_gradient(qtbot) -> None:
    view = TensorView()
    qtbot.addWidget(view)
    assert view.shown_shape() is None
    weight = np.ones((64, 16))
    view.show_tensors(
        "Linear 'hidden'",
        [
            TensorEntry("out", value=np.zeros((32, 16)), grad=np.ones((32, 16))),
            TensorEntry("weight", value=weight, grad=None, is_param=True),
        ],
    )
    assert view.entry_names() == ["out", "weight"]
    assert view.shown_shape() == (32, 16)
    view.select("weight")
    assert view.shown_shape() == (64, 16)
    assert "64×16 weights" in view.caption.text()
    view.set_mode("gradient")
    assert view.shown_shape() is None and "no gradient" in view.stats.text()
    view.select("out")
    assert view.shown_shape() == (32, 16)
    assert "mean 1" in view.stats.text()
    view.clear()
    assert view.shown_shape() is None


def test_final_summary_reads_well() -> None:
    from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished
    from app.ui.training.summary import final_summary, progress_text

    epoch = EpochMetrics(4, 0.1659, 0.1409, 0.969, 3.25)
    text = final_summary(TrainingFinished("stopped", message="stopped in epoch 5"), None, epoch)
    assert text == (
        "Training stopped in epoch 5: train loss 0.1659, validation loss 0.1409, "
        "validation accuracy 96.9%, 3.2 s"
    )
    step = StepMetrics(0, 3, 45, 0.5, samples_per_s=1000.0)
    assert (
        final_summary(TrainingFinished("finished", message="trained 1 epoch"), step, None)
        == "Training finished (trained 1 epoch): last loss 0.5"
    )
    assert progress_text(step, 20, 1234.5) == (
        "epoch 1/20 · step 4/45 · 1,234 samples/s · loss 0.5"
    )
