"""Help > Keyboard Shortcuts lists the training room's run controls, as the window binds them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QTableWidget

from app.ui.training.run_actions import RUN_SPECS


def test_f1_lists_run_and_step_keys(window, qtbot) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_F1)
    dialog = window.findChild(QDialog, "shortcutsDialog")
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["F5"] == "Run"
    assert rows["F10"] == "Step Forward"
    assert rows["Shift+F10"] == "Step Backward"
    assert rows["F6"] == "Pause" and rows["Shift+F5"] == "Stop"
    assert rows["Ctrl+F10"] == "Reset Step"
    assert rows["F7"] == "Evaluate"
    assert [k.toString() for k in window.actions_by_name["actionEvaluate"].shortcuts()] == ["F7"]
    # Each listed key is the one the window's action really carries.
    for _field, name, _text, keys, _tip in RUN_SPECS:
        bound = [k.toString() for k in window.actions_by_name[name].shortcuts()]
        assert bound == list(keys), name
        assert rows[" / ".join(bound)] == window.actions_by_name[name].text().replace("&", "")
