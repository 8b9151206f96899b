"""The canvas's right-click menu, built from the window's actions."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

OVER_ITEM = (
    "actionCut",
    "actionCopy",
    "actionDuplicate",
    "actionDelete",
    None,
    "actionGroup",
    "actionOpenBlock",
    "actionUngroup",
    "actionMakeUnique",
    "actionSaveBlock",
)
OVER_CANVAS = (
    "actionPaste",
    "actionSelectAll",
    None,
    "actionFitView",
    "actionAutoLayout",
    "actionAutoLayoutVertical",
    "actionLeaveBlock",
)
# Entries listed only while they apply (a layer node has nothing to ungroup).
WHEN_ENABLED = frozenset(
    (
        "actionGroup",
        "actionOpenBlock",
        "actionUngroup",
        "actionMakeUnique",
        "actionLeaveBlock",
        "actionSaveBlock",
    )
)


def build_menu(parent: QWidget, actions: dict[str, QAction], over_item: bool) -> QMenu:
    """The menu over a node or wire (``over_item``: edits of the selection) or over empty
    canvas (paste, arrange, leave the open block)."""
    menu = QMenu(parent)
    for name in OVER_ITEM if over_item else OVER_CANVAS:
        if name is None:
            menu.addSeparator()
        elif name in actions and (name not in WHEN_ENABLED or actions[name].isEnabled()):
            menu.addAction(actions[name])
    return menu
