"""The breadcrumb bar above the canvas: where the canvas is (Graph › block › inner block).

Each level is a button; clicking one goes back to it. The bar shows only while a block is
open (at the graph there is nowhere to go back to).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.ui.block_scope import BlockScope

SEPARATOR = "›"


class BreadcrumbBar(QWidget):
    """``breadcrumb``: a button per level above the one shown (``crumb0`` is the graph), then
    the level shown (``crumbHere``).

    Parameters
    ----------
    scope : BlockScope
        The scope shown and moved (clicking crumb ``i`` calls ``scope.up(i)``).
    """

    def __init__(self, scope: BlockScope, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.scope = scope
        self.setAutoFillBackground(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.crumbs: list[QToolButton] = []  # the levels to go back to (crumb0: the graph)
        self.here = QLabel()  # the level shown
        scope.changed.connect(self.refresh)
        # a block renamed or relabelled while open: its crumb follows
        scope.holder.changed.connect(lambda _event: self.refresh() if scope.path else None)
        self.refresh()

    def texts(self) -> list[str]:
        """Every level's text, the graph first and the level shown last."""
        return [button.text() for button in self.crumbs] + [self.here.text()]

    def refresh(self) -> None:
        """Rebuild the crumbs from the scope's path (hidden at the graph)."""
        names = self.scope.names()
        if names == self.texts() and self.isHidden() != bool(self.scope.path):
            return
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.crumbs = []
        for depth, name in enumerate(names):
            if depth:
                arrow = QLabel(SEPARATOR)
                arrow.setEnabled(False)
                self._layout.addWidget(arrow)
            if depth == len(names) - 1:  # where the canvas is: said, not a way back
                here = QLabel(name)
                here.setObjectName("crumbHere")
                font = here.font()
                font.setBold(True)
                here.setFont(font)
                here.setContentsMargins(4, 0, 4, 0)
                self._layout.addWidget(here)
                self.here = here
                continue
            button = QToolButton()
            button.setObjectName(f"crumb{depth}")
            button.setText(name)
            button.setAutoRaise(True)
            button.setToolTip(f"Back to {name}")
            button.clicked.connect(lambda _checked=False, d=depth: self.scope.up(d))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._layout.addWidget(button)
            self.crumbs.append(button)
        hint = QLabel("  (Esc or Alt+Up: back)")
        hint.setEnabled(False)
        self._layout.addWidget(hint)
        self._layout.addStretch(1)
        self.setVisible(bool(self.scope.path))


def above(bar: BreadcrumbBar, canvas: QWidget) -> QWidget:
    """A container with ``bar`` above ``canvas``."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(bar)
    layout.addWidget(canvas, 1)
    return box
