"""Help menu: the shortcuts in a window of their own (F1) and a short About."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QTableWidget

from app.ui.actions import shortcut_table


def test_f1_lists_every_shortcut_and_gesture(window, qtbot) -> None:
    assert [a.text() for a in window.menuBar().actions()][-1] == "&Help"
    window.view.setFocus()
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_F1)
    dialog = window.findChild(QDialog, "shortcutsDialog")
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    rows = [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
    assert rows == shortcut_table()
    assert ("F", "Fit View") in rows and ("F1", "Keyboard shortcuts (this list)") in rows
    window.actions_by_name["actionShortcuts"].trigger()  # again: the same window, raised
    assert window.findChildren(QDialog, "shortcutsDialog") == [dialog]


def test_about_says_what_to_do_first(window) -> None:
    window.actions_by_name["actionAbout"].trigger()
    box = window.findChild(QDialog, "aboutDialog")
    assert box.isVisible() and "press Run to train" in box.text()
    box.close()
