"""The hint an empty canvas shows a first-time user: how to add the first node."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app.ui import style

EMPTY_HINT = "Drag a node from the palette, or press Tab to add one"
EMPTY_HINT_MORE = "File › Examples has ready-made networks to start from"
GAP = 4.0


def paint_empty_hint(painter: QPainter, box: QRectF) -> None:
    """Draw the hint centred in ``box`` (viewport pixels; the painter's transform is reset,
    so the text keeps its size whatever the zoom): the main line above the middle, a
    smaller second line below it, both in the muted text colour."""
    painter.save()
    painter.resetTransform()
    painter.setPen(style.theme()["muted"])
    middle = box.center().y()
    centre = Qt.AlignmentFlag.AlignHCenter
    above = QRectF(box.left(), box.top(), box.width(), middle - box.top() - GAP)
    below = QRectF(box.left(), middle + GAP, box.width(), box.bottom() - middle - GAP)
    painter.setFont(style.small_font(+3.0, bold=True))
    painter.drawText(above, centre | Qt.AlignmentFlag.AlignBottom, EMPTY_HINT)
    painter.setFont(style.small_font(0.0))
    painter.drawText(below, centre | Qt.AlignmentFlag.AlignTop, EMPTY_HINT_MORE)
    painter.restore()
