"""Colours, fonts and run-time drawn icons shared by the editor's widgets.

Light and dark appearance follow the system palette: every colour that is not a category or
port-kind hue is read from ``QApplication.palette()`` when it is needed.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication

from app.graph.validate import Severity

#: Node title bars. Each is dark enough for the white titles drawn on it (a contrast of at least
#: 4.5:1, which far-zoom titles of 9 px need; tests/ui/test_title_contrast.py checks it).
CATEGORY_COLOURS: dict[str, str] = {
    "Data": "#347f93",
    "Layers": "#4a6fd1",
    "Activations": "#a56a03",
    "Recurrent": "#8e5cc4",
    "Tensor ops": "#528136",
    "Losses": "#c8453c",
    "Output": "#6b7280",
    "Blocks": "#a34d8c",
}

PORT_COLOURS: dict[str, str] = {
    "TENSOR": "#3f8fe0",
    "INDICES": "#e0a31f",
    "LOSS": "#d9534f",
    "DATA": "#2aa198",
    "ANY": "#8a8f98",  # a block's port seen from inside: whatever the outside wires to it
}

SEVERITY_COLOURS: dict[Severity, str] = {Severity.ERROR: "#d9302c", Severity.WARNING: "#e5a50a"}

GRID_SIZE = 20.0
APP_ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "nodegrad.svg"


#: The least contrast of white text on a title bar (WCAG's for normal text).
TITLE_CONTRAST = 4.5


def contrast_with_white(colour: QColor) -> float:
    """White's contrast ratio on ``colour`` (1 to 21, WCAG's relative luminance)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(v) for v in (colour.red(), colour.green(), colour.blue()))
    return 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)


def _hashed_colour(key: str) -> QColor:
    """A stable, pleasant colour for a name not in a table (new categories keep working),
    darkened until white titles on it are readable."""
    hue, value = zlib.crc32(key.encode()) % 360, 190
    colour = QColor.fromHsv(hue, 140, value)
    while contrast_with_white(colour) < TITLE_CONTRAST and value > 0:
        value -= 5
        colour = QColor.fromHsv(hue, 140, value)
    return colour


def category_colour(category: object) -> QColor:
    """The hue of a node category (an enum with a display ``value`` or a plain string)."""
    name = str(getattr(category, "value", category))
    return QColor(CATEGORY_COLOURS[name]) if name in CATEGORY_COLOURS else _hashed_colour(name)


def port_colour(kind: object) -> QColor:
    """The colour of a port kind (``PortKind`` member or its name)."""
    name = str(getattr(kind, "name", kind))
    return QColor(PORT_COLOURS[name]) if name in PORT_COLOURS else _hashed_colour(name)


def severity_colour(severity: Severity) -> QColor:
    """Red for errors, amber for warnings."""
    return QColor(SEVERITY_COLOURS[severity])


_THEME: dict[str, QColor] = {}


def theme() -> dict[str, QColor]:
    """Colours read from the system palette, cached until :func:`refresh_theme` (painting 500
    nodes must not query the palette thousands of times per frame)."""
    if not _THEME:
        _THEME.update(
            body=node_body_colour(),
            text=text_colour(),
            muted=muted_text_colour(),
            selection=selection_colour(),
            canvas=canvas_background(),
            grid_minor=grid_colour(False),
            grid_major=grid_colour(True),
        )
    return _THEME


def refresh_theme() -> None:
    """Forget the cached colours (the system switched between light and dark)."""
    _THEME.clear()


def palette() -> QPalette:
    """The application palette (the system's light or dark one)."""
    return QApplication.palette()


def is_dark() -> bool:
    """Whether the system palette is a dark one."""
    return palette().color(QPalette.ColorRole.Window).lightness() < 128


def canvas_background() -> QColor:
    """The canvas colour: a shade off the window colour so nodes stand out."""
    base = palette().color(QPalette.ColorRole.Base)
    return base.darker(115) if is_dark() else base.darker(104)


def grid_colour(major: bool) -> QColor:
    """Minor and major grid line colours for the current palette."""
    bg = canvas_background()
    if is_dark():
        return bg.lighter(145 if major else 118)
    return bg.darker(112 if major else 104)


def node_body_colour() -> QColor:
    """The fill of a node's body."""
    base = palette().color(QPalette.ColorRole.Base)
    return base.lighter(130) if is_dark() else base


def text_colour() -> QColor:
    """The ordinary text colour of the palette."""
    return palette().color(QPalette.ColorRole.Text)


def muted_text_colour() -> QColor:
    """Secondary text (summaries, shape labels)."""
    colour = QColor(text_colour())
    colour.setAlphaF(0.7)
    return colour


def selection_colour() -> QColor:
    """Outline of selected nodes and wires."""
    return palette().color(QPalette.ColorRole.Highlight)


def small_font(point_delta: float = -1.0, bold: bool = False) -> QFont:
    """The application font, a little smaller (or larger), optionally bold."""
    font = QFont(QApplication.font())
    size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
    font.setPointSizeF(max(6.0, size + point_delta))
    font.setBold(bold)
    return font


def _icon_glyph(painter: QPainter, name: str, rect: QRectF) -> None:
    """Draw the white glyph of one category icon inside ``rect``."""
    painter.setPen(
        QPen(QColor("white"), rect.width() / 9, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    )
    c = rect.center()
    w = rect.width() / 2
    path = QPainterPath()
    if name == "Activations":
        path.moveTo(c.x() - w * 0.6, c.y() + w * 0.4)
        path.lineTo(c.x(), c.y() + w * 0.4)
        path.lineTo(c.x() + w * 0.6, c.y() - w * 0.5)
    elif name == "Recurrent":
        path.addEllipse(c, w * 0.45, w * 0.45)
    elif name == "Losses":
        path.moveTo(c.x() - w * 0.5, c.y() - w * 0.5)
        path.quadTo(c.x() - w * 0.3, c.y() + w * 0.5, c.x() + w * 0.55, c.y() + w * 0.45)
    elif name == "Data":
        for dy in (-0.4, 0.0, 0.4):
            path.moveTo(c.x() - w * 0.5, c.y() + w * dy)
            path.lineTo(c.x() + w * 0.5, c.y() + w * dy)
    elif name == "Output":
        path.moveTo(c.x() - w * 0.5, c.y())
        path.lineTo(c.x() + w * 0.5, c.y())
        path.moveTo(c.x() + w * 0.15, c.y() - w * 0.35)
        path.lineTo(c.x() + w * 0.5, c.y())
        path.lineTo(c.x() + w * 0.15, c.y() + w * 0.35)
    else:
        for dx in (-0.35, 0.35):
            for dy in (-0.35, 0.35):
                path.addEllipse(QPointF(c.x() + w * dx, c.y() + w * dy), w * 0.1, w * 0.1)
    painter.drawPath(path)


_ICON_CACHE: dict[str, QIcon] = {}


def category_icon(category: object, size: int = 18) -> QIcon:
    """A small rounded square in the category colour with a glyph, drawn at run time."""
    name = str(getattr(category, "value", category))
    key = f"{name}:{size}"
    if key not in _ICON_CACHE:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(1, 1, size - 2, size - 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(category_colour(name))
        painter.drawRoundedRect(rect, size / 5, size / 5)
        _icon_glyph(painter, name, rect)
        painter.end()
        _ICON_CACHE[key] = QIcon(pixmap)
    return _ICON_CACHE[key]


def app_icon() -> QIcon:
    """The window icon (an empty icon when the resources folder is not installed)."""
    return QIcon(str(APP_ICON)) if APP_ICON.exists() else QIcon()
