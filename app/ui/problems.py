"""The problems dock: every diagnostic of the last validation; a click selects its node (opening
the block it is in)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.graph.document import GraphDocument
from app.graph.validate import Severity, ValidationResult
from app.ui import style
from app.ui.document_holder import DocumentHolder

NODE_ROLE = Qt.ItemDataRole.UserRole
NODE_COLUMN_MAX = 240  # the Node column grows to fit ids like cross_entropy_loss_1.logits
EMPTY_TEXT = "No problems: the graph is ready. Press Run to train it."


def severity_icon(severity: Severity) -> QIcon:
    """A filled circle with an exclamation mark in the severity colour."""
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(style.severity_colour(severity))
    painter.drawEllipse(1, 1, 12, 12)
    painter.setPen(QColor("white"))
    painter.setFont(style.small_font(-2, bold=True))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "!")
    painter.end()
    return QIcon(pixmap)


class _WrappingDelegate(QStyledItemDelegate):
    """Gives a message row the height its text needs when wrapped to the column's width."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """The one-line size, made taller for messages that wrap."""
        size = super().sizeHint(option, index)
        width = self.tree.header().sectionSize(index.column()) - 8
        text = str(index.data() or "")
        if width > 20 and text:
            box = option.fontMetrics.boundingRect(
                QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, text
            )
            size.setHeight(max(size.height(), box.height() + 4))
        return size


class ProblemsPanel(QTreeWidget):
    """The ``problems`` list of the holder's latest validation; ``node_activated(flat_id)``
    fires when a row with a node is clicked (a problem inside a block gives the inner node's
    flat id, which ``BlockScope.reveal`` opens the block for)."""

    node_activated = Signal(str)

    def __init__(self, holder: DocumentHolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.holder = holder
        self.setObjectName("problems")
        self.setColumnCount(3)
        self.setHeaderLabels(["Severity", "Node", "Problem"])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)  # long messages wrap in a narrow dock instead of being cut
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setIconSize(QSize(14, 14))
        self.setColumnWidth(0, 80)
        self.setColumnWidth(1, 110)
        self.header().setStretchLastSection(True)
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setItemDelegateForColumn(2, _WrappingDelegate(self))
        self.header().sectionResized.connect(lambda *_: self.scheduleDelayedItemsLayout())
        self.itemClicked.connect(self._on_clicked)
        self.itemActivated.connect(self._on_clicked)
        holder.validated.connect(self._on_validated)
        self.show_result(holder.validation, holder.document)

    def _on_validated(self, result: ValidationResult) -> None:
        self.show_result(result, self.holder.document)

    def show_result(self, result: ValidationResult, document: GraphDocument) -> None:
        """List the diagnostics of a ``ValidationResult`` (errors first)."""
        self.clear()
        ordered = sorted(result.diagnostics, key=lambda d: d.severity is not Severity.ERROR)
        for diagnostic in ordered:
            node_id = diagnostic.node_id or ""
            node = document.nodes.get(node_id) if node_id else None
            where = node.ref if node is not None else node_id  # as the undo texts name it
            if diagnostic.port:
                where += f".{diagnostic.port}"
            item = QTreeWidgetItem(
                self, [diagnostic.severity.name.capitalize(), where, diagnostic.message]
            )
            item.setIcon(0, severity_icon(diagnostic.severity))
            item.setData(0, NODE_ROLE, diagnostic.inner or node_id)  # a flat id: scope.reveal
            item.setToolTip(1, where)
            item.setToolTip(2, diagnostic.message)
        self._fit_node_column()

    def _fit_node_column(self) -> None:
        """Widen the Node column to its longest entry (never narrower than at start)."""
        metrics = self.fontMetrics()
        widths = [metrics.horizontalAdvance(item.text(1)) + 16 for item in self.rows()]
        self.setColumnWidth(1, min(NODE_COLUMN_MAX, max([110, *widths])))

    def paintEvent(self, event: QPaintEvent) -> None:
        """The rows, or a quiet line saying there is nothing wrong."""
        super().paintEvent(event)
        if self.topLevelItemCount():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().placeholderText().color())
        painter.drawText(
            self.viewport().rect().adjusted(8, 8, -8, -8),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            EMPTY_TEXT,
        )
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-wrap the messages to the new width."""
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()

    def messages(self) -> list[str]:
        """The listed problem texts, in order."""
        return [item.text(2) for item in self.rows()]

    def rows(self) -> list[QTreeWidgetItem]:
        """The listed problems' rows, in order."""
        rows = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [row for row in rows if row is not None]

    def _on_clicked(self, item: QTreeWidgetItem, column: int = 0) -> None:
        node_id = item.data(0, NODE_ROLE)
        if isinstance(node_id, str) and node_id:
            self.node_activated.emit(node_id)
