"""Values are exactly what the user typed: the inspector applies a value only when it is complete
(Enter, focus out, a pause), parses and is in range; anything else is refused in red and changes
nothing. Typed with real key events; the document is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import select_only, type_into

import app.ui.fields as fields
from app.graph.memory import format_bytes


@pytest.fixture
def settings(digits):
    digits.scene.clearSelection()
    QApplication.processEvents()
    return digits.inspector.settings_fields


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("learning_rate", "1e9"),
        ("learning_rate", "0.3e"),
        ("val_split", "-0.5"),
        ("epochs", "-3"),
        ("batch_size", "1000000000"),
    ],
)
def test_an_invalid_setting_is_refused_and_changes_nothing(digits, settings, name, text) -> None:
    before = digits.document.training.to_dict()
    steps = digits.undo_stack.count()
    field = settings[name]
    type_into(field.input, text)  # every keystroke, then Enter
    assert field.has_error(), text
    assert digits.document.training.to_dict() == before  # not even the leading "1" or "-0"
    assert digits.undo_stack.count() == steps
    line = field.input.lineEdit() if hasattr(field.input, "lineEdit") else field.input
    assert line.text() == text  # what was typed stays, with the reason under it
    digits.view.setFocus()  # leaving the box applies nothing either
    QApplication.processEvents()
    assert digits.document.training.to_dict() == before and field.has_error()


@pytest.mark.parametrize("text", ["-5", "1000000000", "0", "12.5"])
def test_a_whole_number_box_never_changes_what_was_typed(digits, text) -> None:
    select_only(digits, "dense1")
    field = digits.inspector.fields["units"]
    type_into(field.input, text)
    assert field.input.lineEdit().text() == text
    assert field.has_error() and field.error.text() == "Enter a whole number from 1 to 100000"
    assert digits.document.nodes["dense1"].params["units"] == 128


def test_a_value_is_applied_on_focus_out_and_after_a_pause(digits, settings, qtbot) -> None:
    rate = settings["learning_rate"]
    type_into(rate.input, "0.05", enter=False)
    assert digits.document.training.learning_rate == 0.003  # still typing
    digits.view.setFocus()
    QApplication.processEvents()
    assert digits.document.training.learning_rate == 0.05
    epochs = settings["epochs"]
    type_into(epochs.input, "7", enter=False)
    assert digits.document.training.epochs == 20
    qtbot.waitUntil(lambda: digits.document.training.epochs == 7)  # the pause
    assert digits.undo_stack.undoText() == "Set Epochs to 7"


def test_the_arrows_step_within_the_range(digits) -> None:
    select_only(digits, "logits")
    units = digits.inspector.fields["units"].input
    units.setFocus()
    QTest.keyClick(units, Qt.Key.Key_Up)
    assert digits.document.nodes["logits"].params["units"] == 11
    type_into(units, "100000")
    QTest.keyClick(units, Qt.Key.Key_Up)
    assert units.value() == 100000
    assert digits.document.nodes["logits"].params["units"] == 100000


def test_browse_fills_the_dataset_path_relative_to_the_graph(digits, monkeypatch) -> None:
    select_only(digits, "data")
    inspector = digits.inspector
    name = inspector.fields["name"].input
    name.setCurrentIndex(name.findText("csv"))
    QApplication.processEvents()
    field = inspector.fields["path"]
    assert field.browse is not None and field.browse.isVisibleTo(inspector)
    assert field.browse.objectName() == "browse_path"
    base = digits.document.base_dir
    asked: list[str] = []

    def answer(parent, caption: str, start: str) -> str:
        asked.append(start)
        return str(Path(base) / "data" / "points.csv")

    monkeypatch.setattr(fields, "ask_file", answer)
    QTest.mouseClick(field.browse, Qt.MouseButton.LeftButton)
    assert asked == [str(base)]
    assert digits.document.nodes["data"].params["path"] == "data/points.csv"
    assert field.input.text() == "data/points.csv"
    monkeypatch.setattr(fields, "ask_file", lambda *a: "")  # cancelled: nothing changes
    QTest.mouseClick(field.browse, Qt.MouseButton.LeftButton)
    assert digits.document.nodes["data"].params["path"] == "data/points.csv"


def test_the_model_summary_shows_the_memory_estimate(digits, settings) -> None:
    result = digits.validate_now()
    memory = result.memory
    assert memory is not None and memory.total_bytes > 0
    summary = digits.inspector.summary
    rows = {
        summary.topLevelItem(i).text(0): summary.topLevelItem(i).text(1)
        for i in range(summary.topLevelItemCount())
    }
    assert rows["Memory to train"] == format_bytes(memory.total_bytes)
    assert rows["Memory: parameters"] == format_bytes(memory.parameter_bytes)
    assert rows["Memory: activations"] == format_bytes(memory.activation_bytes)
    largest = digits.document.nodes[memory.largest_node].display_name
    assert f"Largest: {largest}" in rows
    type_into(settings["batch_size"].input, "256")  # more samples at once: more memory
    bigger = digits.validate_now().memory
    assert bigger.activation_bytes > memory.activation_bytes
    rows = [summary.topLevelItem(i) for i in range(summary.topLevelItemCount())]
    shown = next(r.text(1) for r in rows if r.text(0) == "Memory: activations")
    assert shown == format_bytes(bigger.activation_bytes)
