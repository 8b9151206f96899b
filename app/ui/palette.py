"""The palette dock: node types grouped by category, searchable, added by drag, double-click or
Enter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.graph.specs import NodeSpec
from app.ui import style
from app.ui.canvas.quick_add import match_rank, spec_matches
from app.ui.canvas.view import NODE_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole
SPEC_ROLE = Qt.ItemDataRole.UserRole + 1


class _EntryDelegate(QStyledItemDelegate):
    """Draws a node-type entry as its title with its one-line help, muted, underneath."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Two lines for node types, one for category headers."""
        size = super().sizeHint(option, index)
        if index.data(TYPE_ROLE):
            size.setHeight(int(option.fontMetrics.height() * 2.4))
        return size

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Title on the first line, help (elided) on the second."""
        spec = index.data(SPEC_ROLE)
        if spec is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(opt.decorationSize.width() + 10, 2, -4, -2)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(opt.palette.color(role))
        half = rect.height() / 2
        top = QRectF(rect.left(), rect.top(), rect.width(), half)
        painter.drawText(top, Qt.AlignmentFlag.AlignVCenter, spec.title)
        small = style.small_font(-1.5)
        painter.setFont(small)
        muted = QColor(opt.palette.color(role))
        muted.setAlphaF(0.65)
        painter.setPen(muted)
        help_text = QFontMetrics(small).elidedText(
            spec.help, Qt.TextElideMode.ElideRight, int(rect.width())
        )
        bottom = QRectF(rect.left(), rect.top() + half, rect.width(), half)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignVCenter, help_text)
        painter.restore()


class _PaletteTree(QTreeWidget):
    """The tree of categories and node types; dragging an entry carries its type id."""

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        """Pack the dragged node type as ``application/x-nodegrad-node-type``."""
        data = QMimeData()
        type_ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if type_ids:
            data.setData(NODE_MIME, type_ids[0].encode())
            data.setText(type_ids[0])
        return data

    def supportedDropActions(self) -> Qt.DropAction:
        """Entries are only ever copied out of the palette."""
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        """The one MIME type the palette offers."""
        return [NODE_MIME]


class Palette(QWidget):
    """The ``palette`` widget; ``add_requested(type_id)`` asks to add a node at the view centre.

    Parameters
    ----------
    specs : iterable of NodeSpec
        The node types in palette order (``app.graph.specs.all_specs()``).
    """

    add_requested = Signal(str)

    def __init__(self, specs: Iterable[NodeSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.search = QLineEdit(self)
        self.search.setObjectName("paletteSearch")
        self.search.setPlaceholderText("Search nodes (Enter adds)")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree(self)
        self.tree.setObjectName("paletteTree")
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setIndentation(12)
        self.tree.setItemDelegate(_EntryDelegate(self.tree))
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.help = QLabel(self)
        self.help.setObjectName("paletteHelp")
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setMinimumHeight(self.fontMetrics().height() * 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.help)
        self._build(list(specs))
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._add_first_visible)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.currentItemChanged.connect(self._on_current)

    def _build(self, specs: list[NodeSpec]) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for spec in specs:
            name = spec.category.value
            if name not in groups:
                group = QTreeWidgetItem(self.tree, [name])
                group.setFont(0, bold)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                groups[name] = group
            item = QTreeWidgetItem(groups[name], [spec.title])
            item.setIcon(0, style.category_icon(spec.category))
            item.setData(0, TYPE_ROLE, spec.type_id)
            item.setToolTip(0, spec.help)
            item.setStatusTip(0, spec.help)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            item.setData(0, SPEC_ROLE, spec)
        self.tree.expandAll()

    def groups(self) -> list[QTreeWidgetItem]:
        """The category items, in palette order."""
        tops = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        return [group for group in tops if group is not None]

    def entries(self, group: QTreeWidgetItem | None = None) -> list[QTreeWidgetItem]:
        """Every node-type item (visible or filtered out), or those of one ``group``."""
        found: list[QTreeWidgetItem] = []
        for top in [group] if group is not None else self.groups():
            children = (top.child(i) for i in range(top.childCount()))
            found.extend(child for child in children if child is not None)
        return found

    def visible_type_ids(self) -> list[str]:
        """The type ids the filter currently shows."""
        return [i.data(0, TYPE_ROLE) for i in self.entries() if not i.isHidden()]

    def _filter(self, text: str) -> None:
        for group in self.groups():
            shown = 0
            for item in self.entries(group):
                match = spec_matches(item.data(0, SPEC_ROLE), text)
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
        best = self._best_match(text)
        if best is not None:
            self.tree.setCurrentItem(best)

    def _best_match(self, text: str) -> QTreeWidgetItem | None:
        """The visible entry that matches ``text`` best (title prefix beats help text)."""
        ranked = [
            (match_rank(item.data(0, SPEC_ROLE), text), i, item)
            for i, item in enumerate(self.entries())
            if not item.isHidden()
        ]
        ranked = [r for r in ranked if r[0] is not None]
        return min(ranked)[2] if ranked else None

    def _add_first_visible(self) -> None:
        current = self.tree.currentItem()
        if current is None or current.isHidden() or not current.data(0, TYPE_ROLE):
            current = self._best_match(self.search.text())
        if current is not None:
            self.add_requested.emit(current.data(0, TYPE_ROLE))

    def _on_activated(self, item: QTreeWidgetItem, column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.add_requested.emit(type_id)

    def _on_current(self, item: QTreeWidgetItem | None, previous: object = None) -> None:
        spec = item.data(0, SPEC_ROLE) if item is not None else None
        self.help.setText(f"{spec.title}: {spec.help}" if spec is not None else "")
