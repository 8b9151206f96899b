"""Help: the keyboard shortcuts and gestures in a window of their own, and a short About.

The table is :func:`app.ui.actions.shortcut_table`, the one the README's table comes from.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.actions import shortcut_table

ABOUT = (
    "nodegrad builds neural networks from nodes: add them from the palette, wire outputs to "
    "inputs, read the problems panel until it is empty, then press Run to train. Step Forward "
    "and Step Backward walk the values and gradients through the graph one node at a time."
)


def build_help_menu(window: QMainWindow, actions_by_name: dict[str, QAction]) -> QMenu:
    """Help: Keyboard Shortcuts (F1) and About nodegrad; returns the menu."""
    menu = window.menuBar().addMenu("&Help")
    shortcuts = QAction("&Keyboard Shortcuts", window)
    shortcuts.setObjectName("actionShortcuts")
    shortcuts.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents))
    shortcuts.triggered.connect(lambda: show_shortcuts(window))
    about = QAction("&About nodegrad", window)
    about.setObjectName("actionAbout")
    about.triggered.connect(lambda: show_about(window))
    for action in (shortcuts, about):
        window.addAction(action)
        actions_by_name[action.objectName()] = action
        menu.addAction(action)
    return menu


def show_shortcuts(window: QWidget) -> QDialog:
    """A non-modal window listing every shortcut and canvas gesture (shown again if open)."""
    dialog = window.findChild(QDialog, "shortcutsDialog")
    if dialog is None:
        dialog = QDialog(window)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_table()
        table = QTableWidget(len(rows), 2, dialog)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for row, (keys, does) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(does))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        QVBoxLayout(dialog).addWidget(table)
        dialog.resize(560, 520)
    dialog.show()
    dialog.raise_()
    return dialog


def show_about(window: QWidget) -> QMessageBox:
    """A non-blocking About box: what nodegrad is and the way through it."""
    box = QMessageBox(QMessageBox.Icon.Information, "About nodegrad", ABOUT, parent=window)
    box.setObjectName("aboutDialog")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
