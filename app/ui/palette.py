"""The palette dock: node types grouped by category, searchable, added by drag, double-click or
Enter; a "Blocks" section lists the blocks that can be inserted (:meth:`Palette.set_blocks`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

from app.graph.specs import Category, NodeSpec, get_spec
from app.graph.specs.blocks import BLOCK
from app.ui import style
from app.ui.canvas.quick_add import match_rank, spec_matches
from app.ui.canvas.view import NODE_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole
SPEC_ROLE = Qt.ItemDataRole.UserRole + 1
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2
BLOCK_MIME = "application/x-nodegrad-block"
"""What a block entry dragged out of the palette carries: its :attr:`BlockEntry.key`."""


@dataclass(frozen=True)
class BlockEntry:
    """One block the palette offers: ``key`` (what :attr:`Palette.block_requested` carries),
    its title and one-line help; ``error`` (not insertable) for a file that cannot be read."""

    key: str
    title: str
    help: str
    error: str = ""

    def spec(self) -> NodeSpec:
        """A spec the palette draws and searches the entry by."""
        text = f"Cannot be read: {self.error}" if self.error else self.help
        return dataclasses.replace(get_spec(BLOCK), title=self.title, help=text)


class _EntryDelegate(QStyledItemDelegate):
    """Draws a node-type entry as its title with its one-line help, muted, underneath."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Two lines for node types, one for category headers."""
        size = super().sizeHint(option, index)
        if index.data(SPEC_ROLE) is not None:
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
        blocks = [i.data(0, BLOCK_ROLE) for i in items if i.data(0, BLOCK_ROLE)]
        if blocks:
            data.setData(BLOCK_MIME, blocks[0].encode())
            return data
        type_ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if type_ids:
            data.setData(NODE_MIME, type_ids[0].encode())
            data.setText(type_ids[0])
        return data

    def supportedDropActions(self) -> Qt.DropAction:
        """Entries are only ever copied out of the palette."""
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        """The MIME types the palette offers: node types and blocks."""
        return [NODE_MIME, BLOCK_MIME]


class Palette(QWidget):
    """The ``palette`` widget; ``add_requested(type_id)`` asks to add a node at the view centre,
    ``block_requested(key)`` to insert the block of a "Blocks" entry there.

    Parameters
    ----------
    specs : iterable of NodeSpec
        The node types in palette order (``app.graph.specs.all_specs()``).
    """

    add_requested = Signal(str)
    block_requested = Signal(str)

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
        for spec in specs:
            name = spec.category.value
            if name not in groups:
                groups[name] = self._group(name)
            self._entry(groups[name], spec, TYPE_ROLE, spec.type_id)
        self.tree.expandAll()

    def _group(self, name: str) -> QTreeWidgetItem:
        bold = QFont(self.font())
        bold.setBold(True)
        group = QTreeWidgetItem(self.tree, [name])
        group.setFont(0, bold)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return group

    def _entry(
        self, group: QTreeWidgetItem, spec: NodeSpec, role: int, value: str, drag: bool = True
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem(group, [spec.title])
        item.setIcon(0, style.category_icon(spec.category))
        item.setData(0, role, value)
        item.setToolTip(0, spec.help)
        item.setStatusTip(0, spec.help)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        item.setFlags(flags | Qt.ItemFlag.ItemIsDragEnabled if drag else flags)
        item.setData(0, SPEC_ROLE, spec)
        return item

    def set_blocks(self, entries: Sequence[BlockEntry], ports: Sequence[str] = ()) -> None:
        """Show ``entries`` in the "Blocks" section, after the node types ``ports`` (the
        block input and output types, offered while a block is open)."""
        for group in self.groups():
            if group.text(0) == Category.BLOCKS.value:
                self.tree.invisibleRootItem().removeChild(group)
        if not entries and not ports:
            return
        group = self._group(Category.BLOCKS.value)
        for type_id in ports:
            self._entry(group, get_spec(type_id), TYPE_ROLE, type_id)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for entry in entries:
            item = self._entry(group, entry.spec(), BLOCK_ROLE, entry.key, drag=not entry.error)
            if entry.error:
                item.setIcon(0, warning)
        group.setExpanded(True)
        if self.search.text():
            self._filter(self.search.text())

    def block_entries(self) -> list[QTreeWidgetItem]:
        """The items of the blocks offered (not the block input and output types)."""
        return [i for i in self.items() if i.data(0, BLOCK_ROLE)]

    def groups(self) -> list[QTreeWidgetItem]:
        """The category items, in palette order."""
        tops = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        return [group for group in tops if group is not None]

    def items(self, group: QTreeWidgetItem | None = None) -> list[QTreeWidgetItem]:
        """Every entry, node types and blocks (visible or filtered out), or those of ``group``."""
        found: list[QTreeWidgetItem] = []
        for top in [group] if group is not None else self.groups():
            children = (top.child(i) for i in range(top.childCount()))
            found.extend(child for child in children if child is not None)
        return found

    def entries(self, group: QTreeWidgetItem | None = None) -> list[QTreeWidgetItem]:
        """Every node-type item (visible or filtered out), or those of one ``group``."""
        return [i for i in self.items(group) if i.data(0, TYPE_ROLE)]

    def visible_type_ids(self) -> list[str]:
        """The type ids the filter currently shows."""
        return [i.data(0, TYPE_ROLE) for i in self.entries() if not i.isHidden()]

    def _filter(self, text: str) -> None:
        for group in self.groups():
            shown = 0
            for item in self.items(group):
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
            for i, item in enumerate(self.items())
            if not item.isHidden()
        ]
        ranked = [r for r in ranked if r[0] is not None]
        return min(ranked)[2] if ranked else None

    def _add_first_visible(self) -> None:
        current = self.tree.currentItem()
        if current is None or current.isHidden() or current.data(0, SPEC_ROLE) is None:
            current = self._best_match(self.search.text())
        if current is not None:
            self._on_activated(current, 0)

    def _on_activated(self, item: QTreeWidgetItem, column: int) -> None:
        type_id, key = item.data(0, TYPE_ROLE), item.data(0, BLOCK_ROLE)
        if type_id:
            self.add_requested.emit(type_id)
        elif key and item.flags() & Qt.ItemFlag.ItemIsDragEnabled:
            self.block_requested.emit(key)

    def _on_current(self, item: QTreeWidgetItem | None, previous: object = None) -> None:
        spec = item.data(0, SPEC_ROLE) if item is not None else None
        self.help.setText(f"{spec.title}: {spec.help}" if spec is not None else "")
