"""A node's title zoomed far out: drawn at a fixed on-screen size, whatever the zoom, in the
title bar's category colour; a type's title that does not fit gives its short form."""

from __future__ import annotations

import re

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QStaticText

from app.ui import style

FAR_TITLE_PX = 9.0  # the far title's on-screen font size in pixels, whatever the zoom
FAR_TITLE_MIN_WIDTH = 24.0  # narrower on screen, no title: one letter and "…" tell nothing
FAR_TITLE_PAD = 2.0  # pixels kept free on either side of the far title
KEEP = 8  # an elided title keeping fewer letters gives way to the short form
_FILLER = {"loss", "with", "layer"}


def short_title(title: str) -> str:
    """A short form of a node type's title for far zoom: the initials of its words
    (``Multi-head attention`` -> ``MHA``, ``Cross-entropy loss`` -> ``CE``) or of its capitalised
    parts with any digits (``BatchNorm2d`` -> ``BN2d``, ``GlobalAvgPool2d`` -> ``GAP2d``)."""
    words = [w for w in re.split(r"[\s-]+", title) if w and w.lower() not in _FILLER]
    if len(words) > 1:
        return "".join(w if w.isupper() else w[0].upper() for w in words)
    word = words[0] if words else title
    parts = re.findall(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|\d+[a-z]*", word)
    if len(word) <= 5 or sum(not p[0].isdigit() for p in parts) < 2:
        return word  # ReLU, Conv2d: nothing shorter reads as well
    return "".join(p if p.isupper() or p[0].isdigit() else p[0] for p in parts)


class FarTitle:
    """One node's far title. Zooming repaints every node: the choice of text is kept per
    width in pixels and each text's layout is made once (shared by the nodes showing it)."""

    def __init__(self) -> None:
        # the title, its short form, their widths, the text chosen by width
        self._cache: tuple[str, str, tuple[float, float], dict[int, str]] | None = None

    def text(self, title: str, short: bool, width: int) -> str:
        """``title`` if it fits ``width`` pixels; else ``title`` elided while that keeps
        ``KEEP`` letters (``Transformer enc…``); else (``short``: a type's title) its short
        form (``BN2d``); else that elided."""
        if self._cache is None or self._cache[0] != title:
            metrics = _metrics()
            brief = short_title(title) if short else title
            fits = (metrics.horizontalAdvance(title), metrics.horizontalAdvance(brief))
            self._cache = (title, brief, fits, {})
        title, brief, (title_width, brief_width), chosen = self._cache
        if title_width <= width:
            return title
        if width not in chosen:
            elided = _metrics().elidedText(title, Qt.TextElideMode.ElideRight, width)
            if len(elided) > KEEP or brief_width > width:
                if len(elided) <= KEEP:
                    elided = _metrics().elidedText(brief, Qt.TextElideMode.ElideRight, width)
                chosen[width] = elided
            else:
                chosen[width] = brief
        return chosen[width]

    def paint(
        self, painter: QPainter, title: str, short: bool, lod: float, box: tuple[float, float]
    ) -> None:
        """Draw in the title bar (``box``: its width and height in item units) at zoom
        ``lod``; nothing where the bar is under ``FAR_TITLE_MIN_WIDTH`` pixels wide."""
        width = int(box[0] * lod - 2 * FAR_TITLE_PAD)
        if width < FAR_TITLE_MIN_WIDTH - 2 * FAR_TITLE_PAD:
            return
        static = _static(self.text(title, short, width))
        painter.save()
        painter.scale(1 / lod, 1 / lod)  # draw in screen pixels: the font keeps its size
        painter.setFont(_font())
        painter.setPen(_WHITE)
        y = (box[1] * lod - static.size().height()) / 2
        painter.drawStaticText(QPointF(FAR_TITLE_PAD, y), static)
        painter.restore()


def header_height(lod: float, header: float, height: float) -> float:
    """The title bar's height (item units) at zoom ``lod``: tall enough for the far title on
    screen, at least ``header`` and at most the node's ``height``."""
    return min(height, max(header, (FAR_TITLE_PX + 4) / lod))


_WHITE = QColor("white")
_FONT: list[QFont] = []
_METRICS: list[QFontMetricsF] = []
_STATICS: dict[str, QStaticText] = {}


def _font() -> QFont:
    """The far title font (bold, condensed where there is such a face), made once."""
    if not _FONT:
        font = style.small_font(0.0, bold=True)
        font.setPixelSize(int(FAR_TITLE_PX))
        font.setStretch(QFont.Stretch.Condensed)
        _FONT.append(font)
        _METRICS.append(QFontMetricsF(font))
    return _FONT[0]


def _metrics() -> QFontMetricsF:
    _font()
    return _METRICS[0]


def _static(text: str) -> QStaticText:
    """``text`` laid out once in the far title font (many nodes share a title)."""
    static = _STATICS.get(text)
    if static is None:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(font=_font())
        _STATICS[text] = static
    return static
