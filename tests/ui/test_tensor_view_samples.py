"""The tensor view shows what a person can read: text samples as characters, a chosen sample and
channel, images with their class, and the Output node's prediction against the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui.training.tensor_data import as_text, prediction_text, token_labels

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def step_to(window, node_id: str):
    """Step forward until ``node_id`` ran; returns the stepper."""
    ctrl = window.training
    ctrl.actions.step_forward.trigger()
    stepper = ctrl.steps.stepper
    while ctrl.overlay.highlighted != node_id:
        ctrl.actions.step_forward.trigger()
    QApplication.processEvents()
    return stepper


def pick(box, steps: int) -> None:
    """Press the spin box's Up arrow key ``steps`` times."""
    box.setFocus()
    for _ in range(steps):
        QTest.keyClick(box, Qt.Key.Key_Up)
    QApplication.processEvents()


@pytest.fixture
def chars(make_window):
    return make_window(EXAMPLES / "char_lstm.nodegrad", (1500, 950))


@pytest.fixture
def cnn(make_window):
    return make_window(EXAMPLES / "digits_cnn.nodegrad", (1500, 950))


def test_a_text_sample_reads_as_characters(chars) -> None:
    stepper = step_to(chars, "text")
    view = chars.training.tensor_view
    vocab = tuple(stepper.program.dataset.vocab)
    x = stepper.value("text")["x"]
    assert view.text_view.isVisibleTo(view) and not view.graphics.isVisibleTo(view)
    assert as_text(x[0], vocab) in view.text_view.toPlainText()
    assert view.sample_box.isVisibleTo(view) and view.sample_box.maximum() == x.shape[0] - 1
    pick(view.sample_box, 3)
    assert view.text_view.toPlainText() == f"sample 3:\n{as_text(x[3], vocab)}"
    view.select("y")  # the targets: the next characters
    assert as_text(stepper.value("text")["y"][3], vocab) in view.text_view.toPlainText()


def test_the_output_node_shows_the_prediction_against_the_target(chars) -> None:
    stepper = step_to(chars, "output")
    view = chars.training.tensor_view
    assert view.entry_names() == ["prediction vs target"]
    text = view.text_view.toPlainText()
    assert text.startswith("accuracy on this batch: ")
    vocab = tuple(stepper.program.dataset.vocab)
    target = stepper.batch[1]
    assert f"target:    {as_text(target[0], vocab)}" in text
    guess = stepper.value("logits")["y"][0].argmax(axis=-1)
    assert f"predicted: {as_text(guess, vocab)}" in text
    chars.scene.clearSelection()
    chars.scene.node_item("output").setSelected(True)  # clicking it later shows it again
    assert view.entry_names() == ["prediction vs target"]


def test_images_are_labelled_and_sample_and_channel_can_be_picked(cnn) -> None:
    stepper = step_to(cnn, "data")
    view = cnn.training.tensor_view
    x, y = stepper.value("data")["x"], stepper.value("data")["y"]
    assert view.graphics.isVisibleTo(view) and not view.text_view.isVisibleTo(view)
    assert view.caption.text().endswith(f": class {y[0]}")
    pick(view.sample_box, 2)
    assert view.caption.text().endswith(f": class {y[2]}") and "sample 2" in view.caption.text()
    assert np.array_equal(view.image.image, x[2, 0])
    assert not view.channel_box.isVisibleTo(view)  # one channel: nothing to pick
    step_to(cnn, "conv")
    out = stepper.value("conv")["y"]
    assert view.channel_box.isVisibleTo(view) and view.channel_box.maximum() == out.shape[1] - 1
    assert "sample 2, channel 0" in view.caption.text()  # the chosen sample stays chosen
    pick(view.channel_box, 5)
    pick(view.sample_box, 1)
    assert "sample 3, channel 5" in view.caption.text()
    assert view.caption.text().endswith(f": class {y[3]}")
    assert np.allclose(view.image.image, out[3, 5])


def test_prediction_text_for_classes_and_regression() -> None:
    scores = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0]])
    text = prediction_text(scores, np.array([0, 1, 1]), None)
    lines = text.splitlines()
    assert lines[0] == "accuracy on this batch: 2/3"
    assert lines[-1].endswith("✗") and not lines[-2].endswith("✗")
    reg = prediction_text(np.array([[0.5], [1.5]]), np.array([[0.25], [1.5]]), None)
    assert reg.splitlines()[1].split() == ["0", "0.5", "0.25"]


def test_an_attention_node_shows_its_map_per_head(make_window, tmp_path: Path) -> None:
    window = make_window(EXAMPLES / "char_transformer.nodegrad", (1500, 950))
    stepper = step_to(window, "block1")
    view = window.training.tensor_view
    assert view.axis_labels("left") is None  # the block's output: plain numbers on the axes
    assert "attention (per head)" in view.entry_names()
    view.select("attention (per head)")
    QApplication.processEvents()
    attention = stepper.program.modules["block1"].last_attention
    steps = stepper.value("block1")["y"].shape[1]
    heads = window.document.nodes["block1"].params["heads"]
    assert heads > 1 and view.shown_shape() == (attention.shape[0], heads, steps, steps)
    assert view.channel_box.isVisibleTo(view) and view.channel_box.maximum() == heads - 1
    assert view.channel_label.text() == "Head" and view.channel_label.isVisibleTo(view)
    pick(view.channel_box, 1)
    assert f"head 1, {steps}×{steps}" in view.caption.text()
    vocab = tuple(stepper.program.dataset.vocab)
    x = stepper.batch[0]
    pick(view.sample_box, 2)
    chars = token_labels(x[2], vocab)
    assert len(chars) == steps
    for side in ("left", "bottom"):  # queries down the side, keys along the bottom
        ticks = view.axis_labels(side)
        assert ticks and ticks[0] == (0.5, chars[0])
        assert all(label == chars[int(pos)] for pos, label in ticks)
        gaps = set(np.diff([pos for pos, _ in ticks]).tolist())
        assert len(gaps) == 1 and len(ticks) == -(-steps // int(gaps.pop()))  # evenly thinned
    view.grab().save(str(tmp_path / "attention.png"))  # renders offscreen without error
    view.select("y")
    assert view.axis_labels("left") is None and view.channel_label.text() == "Channel"


def test_token_labels_are_readable() -> None:
    vocab = ("a", " ", "\n")
    assert token_labels(np.array([0, 1, 2, 7]), vocab) == ["a", "␣", "↵", "?"]
