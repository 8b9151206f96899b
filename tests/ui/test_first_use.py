"""What a first-time user meets: a steady toolbar, readable problems, plain-word settings."""

from __future__ import annotations

import itertools

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtGui import QColor, QPalette, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QApplication, QToolButton
from ui_driver import add_by_palette, select_only, type_into

from app.ui.actions import _keep_toolbar_text
from app.ui.recovery_banner import RecoveryBanner


def _button(window, name: str) -> QToolButton:
    return window.toolbar.widgetForAction(window.actions_by_name[name])


def test_toolbar_buttons_stay_put_while_undo_names_the_step(digits) -> None:
    undo, fit = _button(digits, "actionUndo"), _button(digits, "actionFitView")
    left = fit.geometry().left()
    assert undo.toolTip() == "Nothing to undo"
    add_by_palette(digits, "linear")
    assert undo.text() == "Undo" and fit.geometry().left() == left
    assert undo.toolTip() == "Undo Add Linear"
    assert digits.actions_by_name["actionUndo"].text().replace("&", "") == "Undo Add Linear"
    digits.actions_by_name["actionUndo"].trigger()
    assert _button(digits, "actionRedo").toolTip() == "Redo Add Linear"


def test_the_undo_stack_outliving_its_toolbar_action_is_harmless(qtbot) -> None:
    stack, owner = QUndoStack(), QObject()
    action = stack.createUndoAction(owner, "&Undo")
    _keep_toolbar_text(action, "Undo", stack.undoTextChanged)
    first, second = QUndoCommand("Add Linear"), QUndoCommand("Add ReLU")
    stack.push(first)
    assert action.toolTip() == "Undo Add Linear" and action.iconText() == "Undo"
    shiboken6.delete(owner)  # the window (and its actions) goes before its stack
    stack.push(second)  # emits undoTextChanged to the guarded slot
    assert stack.undoText() == "Add ReLU"


def test_exporting_a_broken_graph_lists_each_problem_once_as_a_sentence(window, tmp_path) -> None:
    add_by_palette(window, "linear")
    assert not window.files.export("python", tmp_path / "out.py")
    box = window.last_dialog
    assert box.text() == "Cannot export this graph: fix 3 problems first"
    lines = box.informativeText().splitlines()
    assert lines == [
        "• The model has no Dataset: add one from the Data section",
        "• The model has no loss: add one from the Losses section and wire the prediction and "
        "the dataset's y into it",
        "• 'linear_1' — Linear: input 'x' is not connected; it takes the input batch",
    ]
    assert not (tmp_path / "out.py").exists()


def test_palette_adds_build_a_visible_chain_left_to_right(window) -> None:
    ids = [add_by_palette(window, t) for t in ("dataset", "linear", "relu", "linear", "softmax")]
    rects = [window.scene.node_item(n).body_rect() for n in ids]
    for before, after in itertools.pairwise(rects):
        assert after.left() - before.right() >= 100 and after.top() == before.top()
    viewport = window.view.viewport().rect()
    last = window.view.mapFromScene(rects[-1]).boundingRect()
    assert viewport.contains(last), (viewport, last)
    window.scene.clearSelection()
    free = add_by_palette(window, "tanh")  # nothing selected: the view centre, clear of others
    rect = window.scene.node_item(free).body_rect().adjusted(-15, -15, 15, 15)
    assert not any(rect.intersects(r) for r in rects)  # with room between them


def test_settings_combos_read_as_words_and_store_the_values(digits, qtbot) -> None:
    optimizer = digits.inspector.settings_fields["optimizer"].input
    device = digits.inspector.settings_fields["device"].input
    assert optimizer.currentText() == "Adam" and device.currentText() == "CPU"
    assert [optimizer.itemText(i) for i in range(optimizer.count())] == ["SGD", "Adam", "AdamW"]
    optimizer.setCurrentText("SGD")
    assert digits.document.training.optimizer == "sgd"
    digits.actions_by_name["actionUndo"].trigger()
    assert digits.document.training.optimizer == "adam"
    qtbot.waitUntil(lambda: optimizer.currentText() == "Adam")  # the inspector follows


def test_a_number_out_of_range_is_shown_in_red_with_the_reason(digits) -> None:
    select_only(digits, "logits")
    field = digits.inspector.fields["units"]
    type_into(field.input, "0")
    assert field.has_error() and field.error.text() == "Enter a whole number from 1 to 100000"
    assert digits.document.nodes["logits"].params["units"] == 10
    # the red goes on the text box inside, so the spin box keeps its native arrows
    assert field.input.styleSheet() == "" and "border" in field.input.lineEdit().styleSheet()
    type_into(field.input, "32")
    assert not field.has_error() and digits.document.nodes["logits"].params["units"] == 32


def test_port_tooltips_read_as_sentences(digits) -> None:
    item = digits.scene.node_item("loss")
    assert item.port("target", False).toolTip() == "target (indices input)\nThe batch's targets"
    assert item.port("logits", False).toolTip().endswith("\nThe model's prediction")


def test_the_recovery_banner_text_reads_on_a_dark_palette(window) -> None:
    light = QApplication.palette()
    dark = QPalette(light)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        dark.setColor(role, QColor("#e0e0e0"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    QApplication.setPalette(dark)  # as a system in dark mode
    try:
        banner = RecoveryBanner(window.files)  # made while the system is dark
        banner.text.setText("nodegrad did not exit cleanly.")
        banner.resize(600, 40)
        banner.show()
        image = banner.grab().toImage()
    finally:
        QApplication.setPalette(light)
    label = banner.text.geometry()
    darkest = min(
        image.pixelColor(x, y).lightness()
        for x in range(label.left(), label.left() + 200)
        for y in range(label.top() + 2, label.bottom() - 2)
    )
    assert darkest < 100  # dark letters on the light yellow, not light grey ones
