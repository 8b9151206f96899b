"""The confusion matrix as a heatmap with counts; clicking a cell picks its samples."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

HOT = QColor(30, 90, 190)  # the colour of the fullest cell of a row
MISS = QColor(200, 70, 50)  # the colour of a full off-diagonal cell
MARGIN = 46  # room for the class names and the axis titles
MAX_CELL = 56
MIN_CELL = 18


class ConfusionView(QWidget):
    """Counts of (true, predicted) classes; rows are the true class (``confusionMatrix``).

    Cells are shaded by their share of the row (so rare classes read as well as common ones),
    blue on the diagonal and red off it, with the count written in each. A click emits
    ``cell_clicked(true, predicted)`` and outlines the cell.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.classes: list[str] = []
        self.selected: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        """Show ``matrix`` (C×C counts) with ``classes`` as row and column names."""
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.classes = list(classes)
        self.selected = None
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        """Room for cells of a comfortable size."""
        n = max(len(self.classes), 1)
        side = MARGIN + n * min(MAX_CELL, max(MIN_CELL, 360 // n)) + 8
        return QSize(side, side)

    def minimumSizeHint(self) -> QSize:
        """Small cells still fit their counts."""
        side = MARGIN + max(len(self.classes), 1) * MIN_CELL + 8
        return QSize(side, side)

    def _geometry(self) -> tuple[float, float, float]:
        """(left, top, cell size) of the grid in the widget."""
        n = max(len(self.classes), 1)
        cell = min(MAX_CELL, (min(self.width(), self.height()) - MARGIN - 8) / n)
        return float(MARGIN), float(MARGIN), max(cell, 4.0)

    def cell_rect(self, row: int, column: int) -> QRectF:
        """Where the cell (true ``row``, predicted ``column``) is drawn."""
        left, top, cell = self._geometry()
        return QRectF(left + column * cell, top + row * cell, cell, cell)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        """The (true, predicted) cell under ``point``, None outside the grid."""
        left, top, cell = self._geometry()
        n = len(self.classes)
        column, row = int((point.x() - left) // cell), int((point.y() - top) // cell)
        if point.x() < left or point.y() < top or not (0 <= row < n and 0 <= column < n):
            return None
        return row, column

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Pick the clicked cell."""
        cell = self.cell_at(event.position())
        if cell is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.selected = cell
        self.update()
        self.cell_clicked.emit(*cell)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """A tooltip naming the cell under the pointer."""
        cell = self.cell_at(event.position())
        if cell is None:
            self.setToolTip("")
        else:
            true, predicted = cell
            count = int(self.matrix[true, predicted])
            self.setToolTip(
                f"{count} sample(s) of class {self.classes[true]} predicted as "
                f"{self.classes[predicted]}; click to list them"
            )
        super().mouseMoveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Cells, counts, class names and axis titles."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.Text)
        n = len(self.classes)
        if n == 0:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No confusion matrix")
            return
        left, top, cell = self._geometry()
        font = QFont(self.font())
        font.setPixelSize(int(max(9, min(14, cell * 0.38))))
        painter.setFont(font)
        totals = self.matrix.sum(axis=1)
        for row in range(n):
            for column in range(n):
                rect = self.cell_rect(row, column)
                count = int(self.matrix[row, column])
                share = count / totals[row] if totals[row] else 0.0
                painter.fillRect(rect, _shade(share, row == column, self.palette()))
                painter.setPen(QColor(255, 255, 255) if share > 0.5 else text)
                if count:
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.setPen(QColor(text.red(), text.green(), text.blue(), 60))
        painter.drawRect(QRectF(left, top, n * cell, n * cell))
        if self.selected is not None:
            painter.setPen(text)
            painter.drawRect(self.cell_rect(*self.selected).adjusted(1, 1, -1, -1))
        painter.setPen(text)
        for k, name in enumerate(self.classes):
            label = name if name.strip() else repr(name)
            column_rect = QRectF(left + k * cell, top - 18, cell, 16)
            painter.drawText(column_rect, Qt.AlignmentFlag.AlignCenter, label)
            row_rect = QRectF(left - 26, top + k * cell, 22, cell)
            painter.drawText(row_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             label)  # fmt: skip
        title = QFont(self.font())
        title.setPixelSize(11)
        painter.setFont(title)
        painter.drawText(
            QRectF(left, 2, n * cell, 14), Qt.AlignmentFlag.AlignCenter, "predicted class"
        )
        painter.save()
        painter.translate(12, top + n * cell / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-60, -8, 120, 16), Qt.AlignmentFlag.AlignCenter, "true class")
        painter.restore()


def _shade(share: float, diagonal: bool, palette: QPalette) -> QColor:
    """The base colour blended toward blue (diagonal) or red (mistakes) by ``share``."""
    base = palette.color(QPalette.ColorRole.Base)
    hot = HOT if diagonal else MISS
    weight = 0.12 + 0.88 * share if share > 0 else 0.0
    return QColor(
        round(base.red() + (hot.red() - base.red()) * weight),
        round(base.green() + (hot.green() - base.green()) * weight),
        round(base.blue() + (hot.blue() - base.blue()) * weight),
    )
