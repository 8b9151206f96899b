"""Quick-add: a small searchable list of node types that opens at the cursor on the canvas."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMoveEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.graph.specs import NodeSpec
from app.ui import style

TYPE_ROLE = Qt.ItemDataRole.UserRole
MAX_ROWS = 12


EXACT, PREFIX, SUBSTRING, HELP = range(4)  # match ranks, best first


def match_rank(spec: NodeSpec, text: str) -> int | None:
    """How well a node spec matches a search text, best first: ``EXACT`` the title or type id
    is the text, ``PREFIX`` one starts with it, ``SUBSTRING`` they contain every word,
    ``HELP`` the category or help does; None for no match (an empty text: ``SUBSTRING``)."""
    text = " ".join(text.lower().split())
    if not text:
        return SUBSTRING
    names = (spec.title.lower(), spec.type_id.lower())
    if text in names:
        return EXACT
    if any(name.startswith(text) for name in names):
        return PREFIX
    words, named = text.split(), " ".join(names)
    if all(word in named for word in words):
        return SUBSTRING
    haystack = f"{named} {spec.category.value} {spec.help}".lower()
    return HELP if all(word in haystack for word in words) else None


def spec_matches(spec: NodeSpec, text: str) -> bool:
    """Whether a node spec matches a search text (title, type id, category or help)."""
    return match_rank(spec, text) is not None


class QuickAdd(QFrame):
    """A popup (a child of the canvas viewport, so it never blocks) listing node types.

    ``chosen(type_id)`` is emitted when the user picks one with Enter or a double-click;
    Escape or clicking elsewhere closes it and emits ``cancelled``. It stays where it was
    opened while the canvas scrolls or zooms under it (as a menu does): ``opened_at`` is the
    viewport point it marks, where the chosen node goes.
    """

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("quickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.search = QLineEdit(self)
        self.search.setObjectName("quickAddSearch")
        self.search.setPlaceholderText("Add node…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("quickAddList")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(260, 300)
        self._specs: list[NodeSpec] = []
        self.opened_at = QPoint()
        self._anchor = QPoint()  # its top-left in the viewport while open
        self.search.textChanged.connect(self._refilter)
        self.search.returnPressed.connect(self._accept_current)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._accept_item)
        self.list.itemDoubleClicked.connect(self._accept_item)
        self.hide()

    def open_at(self, pos: QPoint, specs: Sequence[NodeSpec]) -> None:
        """Show the node types ``specs`` with the popup's corner at ``pos`` (viewport coords)."""
        self._specs = list(specs)
        self.search.clear()
        self._refilter("")
        parent = self.parentWidget()
        room = parent.size() if parent is not None else self.size()
        x = max(0, min(pos.x(), room.width() - self.width()))
        y = max(0, min(pos.y(), room.height() - self.height()))
        self.opened_at, self._anchor = QPoint(pos), QPoint(x, y)
        self.move(self._anchor)
        self.show()
        self.raise_()
        self.search.setFocus()

    def moveEvent(self, event: QMoveEvent) -> None:
        """Stay put: scrolling the canvas moves the viewport's children with its contents."""
        super().moveEvent(event)
        if self.isVisible() and self.pos() != self._anchor:
            self.move(self._anchor)

    def visible_type_ids(self) -> list[str]:
        """The type ids currently listed (after filtering)."""
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())]

    def _refilter(self, text: str) -> None:
        self.list.clear()
        ranked = [(match_rank(spec, text), i, spec) for i, spec in enumerate(self._specs)]
        for _rank, _i, spec in sorted(r for r in ranked if r[0] is not None):
            item = QListWidgetItem(style.category_icon(spec.category), spec.title)
            item.setData(TYPE_ROLE, spec.type_id)
            item.setToolTip(spec.help)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow or shrink to the listed entries (at most MAX_ROWS), keeping the top-left."""
        rows = max(1, min(self.list.count(), MAX_ROWS))
        row_height = self.list.sizeHintForRow(0) if self.list.count() else 20
        self.list.setFixedHeight(rows * row_height + 2 * self.list.frameWidth() + 2)
        self.adjustSize()
        self.resize(260, self.sizeHint().height())

    def _accept_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._accept_item(item)

    def _accept_item(self, item: QListWidgetItem) -> None:
        self.hide()
        self.chosen.emit(item.data(TYPE_ROLE))

    def close_popup(self) -> None:
        """Hide without choosing."""
        if self.isVisible():
            self.hide()
            self.cancelled.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down in the search box move through the list; Escape closes."""
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.close_popup()
                return True
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.list.count():
                    self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
