"""Small painted widgets of the try-it dock: probability bars and a grid to draw on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR = QColor(40, 90, 200)
TOP = QColor(40, 150, 80)
ROW = 20
LABEL = 56
PERCENT = 52


class ProbabilityBars(QWidget):
    """One horizontal bar per class, its name on the left and its probability on the right;
    the most likely class in green (``probabilityBars``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self.names: list[str] = []
        self.values = np.zeros(0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_probabilities(self, names: list[str], values: np.ndarray) -> None:
        """Show ``values`` (probabilities, one per name)."""
        self.names, self.values = list(names), np.asarray(values, dtype=np.float64)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        """One row per class."""
        return QSize(260, max(1, len(self.names)) * ROW + 4)

    def minimumSizeHint(self) -> QSize:
        """Every row stays readable."""
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The bars."""
        painter = QPainter(self)
        text = self.palette().color(QPalette.ColorRole.Text)
        track = QColor(text)
        track.setAlpha(25)
        best = int(self.values.argmax()) if self.values.size else -1
        width = max(self.width() - LABEL - PERCENT - 8, 10)
        for row, (name, value) in enumerate(zip(self.names, self.values, strict=True)):
            top = 2 + row * ROW
            painter.setPen(text)
            shown = name if name.strip() else repr(name)
            painter.drawText(QRectF(0, top, LABEL - 6, ROW), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, shown)  # fmt: skip
            painter.fillRect(QRectF(LABEL, top + 3, width, ROW - 6), track)
            colour = TOP if row == best else BAR
            painter.fillRect(QRectF(LABEL, top + 3, width * float(value), ROW - 6), colour)
            painter.drawText(QRectF(LABEL + width + 4, top, PERCENT, ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{100 * value:.1f}%")  # fmt: skip


class DrawGrid(QWidget):
    """A grid of pixels to draw on with the mouse (``drawGrid``): the left button paints, the
    right one erases; ``changed`` is emitted with every stroke.

    Values lie between ``low`` (blank) and ``high`` (ink); a stroke inks the cell under the
    pointer fully and its four neighbours by half, like a pen on the training images.
    """

    changed = Signal()

    def __init__(self, height: int, width: int, low: float, high: float,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("drawGrid")
        self.low, self.high = low, high
        self.values = np.full((height, width), low, dtype=np.float64)
        self.setMinimumSize(width * 14, height * 14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        """Cells of about 24 pixels."""
        height, width = self.values.shape
        return QSize(width * 24, height * 24)

    def clear(self) -> None:
        """Blank every cell."""
        self.values[:] = self.low
        self.update()
        self.changed.emit()

    def set_values(self, values: np.ndarray) -> None:
        """Show ``values`` (one image) without emitting ``changed``."""
        self.values = np.asarray(values, dtype=np.float64).reshape(self.values.shape).copy()
        self.update()

    def _cell(self) -> float:
        height, width = self.values.shape
        return min(self.width() / width, self.height() / height)

    def cell_center(self, row: int, column: int) -> QPointF:
        """Where cell (row, column) is on the widget."""
        size = self._cell()
        return QPointF((column + 0.5) * size, (row + 0.5) * size)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a stroke."""
        self._paint_at(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Continue a stroke."""
        self._paint_at(event)

    def _paint_at(self, event: QMouseEvent) -> None:
        buttons = event.buttons()
        erase = bool(buttons & Qt.MouseButton.RightButton)
        if not (erase or buttons & Qt.MouseButton.LeftButton):
            return
        size = self._cell()
        row, column = int(event.position().y() // size), int(event.position().x() // size)
        height, width = self.values.shape
        if not (0 <= row < height and 0 <= column < width):
            return
        before = self.values.copy()
        span = self.high - self.low
        for dr, dc, amount in ((0, 0, 1.0), (1, 0, 0.5), (-1, 0, 0.5), (0, 1, 0.5), (0, -1, 0.5)):
            r, c = row + dr, column + dc
            if 0 <= r < height and 0 <= c < width:
                if erase:
                    self.values[r, c] = self.low if amount == 1.0 else self.values[r, c]
                else:
                    self.values[r, c] = max(self.values[r, c], self.low + span * amount)
        if not np.array_equal(before, self.values):
            self.update()
            self.changed.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Light cells, dark ink, faint cell borders."""
        painter = QPainter(self)
        size = self._cell()
        height, width = self.values.shape
        span = self.high - self.low
        for row in range(height):
            for column in range(width):
                ink = (self.values[row, column] - self.low) / span if span else 0.0
                grey = round(255 - 235 * min(max(ink, 0.0), 1.0))
                rect = QRectF(column * size, row * size, size, size)
                painter.fillRect(rect, QColor(grey, grey, grey))
        painter.setPen(QColor(150, 150, 150, 90))
        for k in range(width + 1):
            painter.drawLine(QPointF(k * size, 0), QPointF(k * size, height * size))
        for k in range(height + 1):
            painter.drawLine(QPointF(0, k * size), QPointF(width * size, k * size))
