"""The canvas view: fitting the graph to the window, and the hint on an empty canvas."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui import style
from app.ui.canvas.hint import EMPTY_HINT
from app.ui.canvas.view import FIT_MAX_ZOOM
from app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits_mlp.nodegrad"
SHOTS = Path(os.environ.get("NODEGRAD_SHOTS", "/tmp/shots"))


def graph_on_screen(window) -> QRectF:
    """The viewport rectangle the graph's nodes cover."""
    rect = QRectF()
    for item in window.scene.node_items():
        rect = rect.united(item.sceneBoundingRect())
    return window.view.mapFromScene(rect).boundingRect().toRectF()


def settle(qtbot) -> None:
    QApplication.processEvents()
    qtbot.wait(10)


def test_a_window_enlarged_after_it_was_built_shows_the_graph_large(qtbot) -> None:
    w = MainWindow(path=DIGITS)  # built at its default size, enlarged and shown later
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot)
    viewport = QRectF(w.view.viewport().rect())
    shown = graph_on_screen(w)
    assert viewport.contains(shown)
    assert shown.width() > 0.7 * viewport.width() or shown.height() > 0.7 * viewport.height()
    assert abs(shown.center().x() - viewport.center().x()) < 20


def test_resizes_refit_until_the_user_zooms_and_opening_a_file_fits_again(
    qtbot, make_window
) -> None:
    w = make_window(DIGITS, (1000, 700))
    before = w.view.zoom()
    w.resize(1600, 1000)
    settle(qtbot)
    assert w.view.zoom() > before * 1.2  # the graph grew with the window
    viewport = w.view.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))  # user touched
    w.view.zoom_by(0.8)
    chosen = w.view.zoom()
    w.resize(1200, 800)
    settle(qtbot)
    assert w.view.zoom() == chosen  # the user's zoom is kept
    assert w.files.open(DIGITS)
    w.resize(1600, 1000)
    settle(qtbot)
    assert w.view.zoom() > chosen * 1.2 and w.view.auto_fit


def test_a_tiny_graph_is_not_blown_up(make_window) -> None:
    w = make_window()
    w.editor.add_node("relu", QPointF(0, 0))
    w.editor.add_node("tanh", QPointF(200, 0))
    w.view.fit_all()
    assert w.view.zoom() == FIT_MAX_ZOOM
    w.resize(1800, 1100)
    assert w.view.zoom() == FIT_MAX_ZOOM


def hint_pixels(window) -> int:
    """Pixels in a band across the middle of the canvas that are far darker or lighter than
    the canvas colour (text, not the grid)."""
    image = window.view.viewport().grab().toImage()
    canvas = style.theme()["canvas"]
    middle = image.height() // 2
    count = 0
    for y in range(middle - 30, middle + 30, 2):
        for x in range(0, image.width(), 2):
            if abs(QColor(image.pixel(x, y)).lightness() - canvas.lightness()) > 60:
                count += 1
    return count


def test_an_empty_canvas_says_how_to_start_until_there_is_a_node(qtbot, window) -> None:
    assert window.view.empty_hint() == EMPTY_HINT
    assert "palette" in EMPTY_HINT and "Tab" in EMPTY_HINT
    settle(qtbot)
    assert hint_pixels(window) > 100
    window.editor.add_node("relu", QPointF(4000, 4000))  # off screen: the middle stays bare
    settle(qtbot)
    assert window.view.empty_hint() == ""
    assert hint_pixels(window) == 0
    window.undo_stack.undo()
    settle(qtbot)
    assert window.view.empty_hint() == EMPTY_HINT and hint_pixels(window) > 100
    window.view.zoom_by(2.5)  # the hint keeps its size and place whatever the zoom
    window.view.horizontalScrollBar().setValue(window.view.horizontalScrollBar().value() + 300)
    settle(qtbot)
    assert hint_pixels(window) > 100
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "empty_canvas.png"))  # looked at by hand, never compared


@pytest.mark.parametrize("example", sorted(p.stem for p in (ROOT / "examples").glob("*.nodegrad")))
def test_every_wire_of_an_example_shows_its_shape(make_window, example: str) -> None:
    w = make_window(ROOT / "examples" / f"{example}.nodegrad", (1600, 950))  # ~ the default
    labelled = [e for e in w.scene.edge_items() if e.label]
    assert len(labelled) == len(w.document.edges)
    assert all(e.label_shown() for e in labelled), [e.label for e in labelled]
