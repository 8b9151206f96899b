"""Editor behaviours of the issue held to their word: debounced validation, asking before Open,
palette adds at the view centre, remembered layout and recent files, Cut, light/dark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import DIGITS
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import add_by_palette, add_by_search

import app.ui.document_holder as holder_module
from app.ui import style
from app.ui.canvas.node_item import HEADER_HEIGHT, NODE_WIDTH, SUMMARY_HEIGHT
from app.ui.document_holder import VALIDATION_DELAY_MS
from app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


# -- 1. debounced validation ------------------------------------------------------------------
def test_quick_edits_validate_once_after_the_delay(window, qtbot, monkeypatch) -> None:
    calls: list[int] = []
    real = holder_module.validate

    def counting(document):
        calls.append(len(document.nodes))
        return real(document)

    monkeypatch.setattr(holder_module, "validate", counting)
    shown = window.problems.messages()  # the empty document's problems
    loss = add_by_palette(window, "cross_entropy_loss")  # alone: its inputs are unconnected
    add_by_palette(window, "relu")
    add_by_palette(window, "tanh")
    assert calls == []  # nothing validated while the edits come quickly (no loop ran yet)
    assert window.problems.messages() == shown
    assert window.scene.node_item(loss).badge_severity is None
    qtbot.waitUntil(lambda: bool(calls), timeout=5 * VALIDATION_DELAY_MS + 2000)
    QTest.qWait(2 * VALIDATION_DELAY_MS)  # and no second run follows
    assert calls == [3]  # one validation, of the document after all three edits
    new = set(window.problems.messages()) - set(shown)
    assert any(loss in m or "loss" in m.lower() for m in new), new  # panel and badge followed
    assert window.scene.node_item(loss).badge_severity is not None
    assert "3 nodes" in window.status_summary.text()


# -- 2. Open asks to save unsaved changes -----------------------------------------------------
def test_open_with_unsaved_changes_asks_cancel_keeps_discard_opens(window, monkeypatch) -> None:
    answers: list[str] = []
    asked_for_path: list[int] = []
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: answers.pop(0))
    monkeypatch.setattr(
        MainWindow, "ask_open_path", lambda self: asked_for_path.append(1) or str(DIGITS)
    )
    relu = add_by_palette(window, "relu")
    open_action = window.actions_by_name["actionOpen"]

    answers.append("cancel")
    open_action.trigger()
    assert answers == [] and asked_for_path == []  # asked; cancelled before choosing a file
    assert list(window.document.nodes) == [relu] and window.isWindowModified()

    answers.append("discard")
    open_action.trigger()
    assert answers == [] and asked_for_path == [1]
    assert relu not in window.document.nodes and len(window.document.nodes) > 5
    assert not window.isWindowModified()


def test_open_with_unsaved_changes_can_save_them_first(window, monkeypatch, tmp_path) -> None:
    saved = tmp_path / "mine.nodegrad"
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: "save")
    monkeypatch.setattr(MainWindow, "ask_save_path", lambda self, *a: str(saved))
    monkeypatch.setattr(MainWindow, "ask_open_path", lambda self: str(DIGITS))
    add_by_palette(window, "relu")
    window.actions_by_name["actionOpen"].trigger()
    assert [n["type"] for n in json.loads(saved.read_text())["nodes"]] == ["relu"]
    assert len(window.document.nodes) > 5


# -- 3. palette adds at the view centre -------------------------------------------------------
def _view_centre(window) -> QPointF:
    return window.view.mapToScene(window.view.viewport().rect().center())


def _node_centre(window, node_id: str) -> QPointF:
    return window.scene.node_item(node_id).pos() + QPointF(NODE_WIDTH / 2, 40)


def test_palette_double_click_adds_at_the_view_centre(window) -> None:
    window.view.zoom_by(1.0)  # the user placed the view: it stays where it is
    window.view.centerOn(QPointF(700, -300))
    centre = _view_centre(window)
    node = add_by_palette(window, "linear")
    assert window.document.nodes[node].type_id == "linear"
    offset = _node_centre(window, node) - centre
    assert abs(offset.x()) < 2 and abs(offset.y()) < 2
    assert window.scene.selected_node_ids() == [node]


def test_enter_in_the_palette_search_adds_the_top_match(window) -> None:
    centre = _view_centre(window)
    node = add_by_search(window, "drop")
    assert window.document.nodes[node].type_id == "dropout"
    offset = _node_centre(window, node) - centre
    assert abs(offset.x()) < 2 and abs(offset.y()) < 2
    window.scene.clearSelection()
    softmax = add_by_search(window, "soft")
    assert window.document.nodes[softmax].type_id == "softmax"


# -- 4. layout and recent files remembered ----------------------------------------------------
@pytest.fixture
def clean_settings():
    """Settings of the test session's temporary home, emptied of layout and recent files
    before and after (the rest of the session starts from the default layout)."""
    keys = ("geometry", "windowState", "recentFiles")
    settings = QSettings()
    config = Path(os.environ["XDG_CONFIG_HOME"])  # conftest: the session's temporary home
    assert Path(settings.fileName()).is_relative_to(config)  # never the user's settings
    for key in keys:
        settings.remove(key)
    yield settings
    for key in keys:
        settings.remove(key)


def test_dock_layout_and_recent_files_survive_a_new_window(
    make_window, clean_settings, tmp_path
) -> None:
    first = make_window()
    assert first.dockWidgetArea(first.docks["paletteDock"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.docks["paletteDock"])
    first.docks["problemsDock"].hide()
    add_by_palette(first, "relu")
    path = tmp_path / "remembered.nodegrad"
    assert first.files.save_as(path)
    assert first.close()

    second = make_window()
    area = second.dockWidgetArea(second.docks["paletteDock"])
    assert area == Qt.DockWidgetArea.RightDockWidgetArea
    assert second.docks["problemsDock"].isHidden()
    assert second.docks["inspectorDock"].isVisible()
    assert second.files.recent_files()[0] == str(path)
    recent = [a.text() for a in second.menu_recent.actions()]
    assert recent and recent[0] == str(path)


# -- 5. Cut -----------------------------------------------------------------------------------
def test_cut_is_named_cut_and_paste_restores_the_json(digits) -> None:
    before = digits.document.to_dict()
    digits.actions_by_name["actionSelectAll"].trigger()
    count = len(digits.document.nodes)
    digits.actions_by_name["actionCut"].trigger()
    assert digits.document.nodes == {}
    assert digits.undo_stack.undoText() == f"Cut {count} items"
    assert digits.actions_by_name["actionUndo"].text().endswith(f"Cut {count} items")

    fragment = json.loads(QGuiApplication.clipboard().text())
    assert fragment["format"] == "nodegrad-fragment"
    assert Counter(n["type"] for n in fragment["nodes"]) == Counter(
        n["type"] for n in before["nodes"]
    )
    assert len(fragment["edges"]) == len(before["edges"])

    digits.actions_by_name["actionPaste"].trigger()
    after = digits.document.to_dict()
    assert digits.undo_stack.undoText() == f"Paste {count} nodes"
    strip = ("id", "position")
    shape = sorted(
        json.dumps({k: v for k, v in n.items() if k not in strip}, sort_keys=True)
        for n in after["nodes"]
    )
    assert shape == sorted(
        json.dumps({k: v for k, v in n.items() if k not in strip}, sort_keys=True)
        for n in before["nodes"]
    )
    kinds = {n["id"]: n["type"] for n in after["nodes"]}
    old_kinds = {n["id"]: n["type"] for n in before["nodes"]}

    def wires(edges, names):
        return Counter(
            (names[e["src"]], e["src_port"], names[e["dst"]], e["dst_port"]) for e in edges
        )

    assert wires(after["edges"], kinds) == wires(before["edges"], old_kinds)


def test_cut_of_one_node_is_named_cut(window) -> None:
    add_by_palette(window, "relu")  # selected after the add
    window.actions_by_name["actionCut"].trigger()
    assert window.document.nodes == {}
    assert window.undo_stack.undoText().startswith("Cut")


# -- 6. light and dark ------------------------------------------------------------------------
def _dark_palette() -> QPalette:
    dark = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#292a2d"),
        (QPalette.ColorRole.AlternateBase, "#303134"),
        (QPalette.ColorRole.Text, "#f1f3f4"),
        (QPalette.ColorRole.Button, "#303134"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#8ab4f8"),
    ):
        dark.setColor(role, QColor(colour))
    return dark


def _shot(window) -> QImage:
    """What the canvas shows now, as the view paints it."""
    QApplication.processEvents()
    return window.view.viewport().grab().toImage()


def _lightness_at(window, image: QImage, scene_point: QPointF) -> int:
    point = window.view.mapFromScene(scene_point)
    return image.pixelColor(point.x(), point.y()).lightness()


def _canvas_and_text(window, node_id: str) -> tuple[int, int, int]:
    """Lightness of (empty canvas, the node's body, its most distinct summary-text pixel)."""
    window.view.resetTransform()  # 1:1, so a scene pixel is a screen pixel
    item = window.scene.node_item(node_id)
    window.view.centerOn(item)
    image = _shot(window)
    canvas = _lightness_at(window, image, item.pos() + QPointF(-40, -40))
    line = QRectF(10, HEADER_HEIGHT + 2, NODE_WIDTH / 2 - 10, SUMMARY_HEIGHT)
    body = _lightness_at(window, image, item.pos() + QPointF(NODE_WIDTH - 14, line.top() + 2))
    values = [
        _lightness_at(window, image, item.pos() + QPointF(x, y))
        for x in range(int(line.left()), int(line.right()))
        for y in range(int(line.top()), int(line.bottom()))
    ]
    return canvas, body, max(values, key=lambda v: abs(v - body))


def test_dark_palette_recolours_canvas_and_node_text(window) -> None:
    node = add_by_palette(window, "linear")
    light = QApplication.palette()
    assert not style.is_dark()
    canvas, body, text = _canvas_and_text(window, node)
    assert canvas > 170 and body > 170 and text < body - 100  # dark text on light
    try:
        QApplication.setPalette(_dark_palette())
        canvas, body, text = _canvas_and_text(window, node)
        assert canvas < 80 and body < 110  # the canvas and the node's body went dark
        assert text > body + 100  # light text on it
        assert style.theme()["text"] == QColor("#f1f3f4")
    finally:
        QApplication.setPalette(light)
    canvas, body, text = _canvas_and_text(window, node)
    assert canvas > 170 and body > 170 and text < body - 100  # and back


def test_the_process_exits_cleanly_after_a_copy(tmp_path) -> None:
    """Copying nodes must not leave the clipboard in a state that crashes Qt at exit."""
    script = tmp_path / "copy_then_exit.py"
    script.write_text(
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from app.ui.clipboard import put_on_clipboard, read_clipboard\n"
        "put_on_clipboard({'format': 'nodegrad-fragment', 'nodes': [], 'edges': []})\n"
        "assert read_clipboard() is not None\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
