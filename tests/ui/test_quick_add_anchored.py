"""The quick-add popup stays where it was opened while the canvas scrolls under it (as a menu
does), and the chosen node goes where the popup points."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import digits_document, show_document, view_point


def test_the_popup_stays_put_while_the_canvas_scrolls(window) -> None:
    show_document(window, digits_document())
    view = window.view
    viewport = view.viewport()
    opened = view_point(window, QPointF(-300, 500))
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=opened)
    popup = view.quick_add
    assert popup.isVisible()
    where = popup.pos()
    bar = view.horizontalScrollBar()
    bar.setValue(bar.value() + 120)  # the canvas scrolls (pan, wheel zoom, reveal)
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() - 80)
    QApplication.processEvents()
    assert popup.isVisible() and popup.pos() == where  # it slid with the contents before
    window.grab().save("/tmp/ui2_quick_add_scrolled.png")
    QTest.keyClicks(popup.search, "sigm")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    x, y = window.document.nodes["sigmoid_1"].position
    target = view.mapToScene(opened)  # under the popup's corner, after the scroll
    assert abs(x - target.x()) <= 20 and abs(y - target.y()) <= 20
