"""Opening a document, and entering or leaving a block, show every node the canvas shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QAbstractSpinBox, QApplication
from ui_driver import type_into

from app.ui.canvas.view import FIT_MAX_ZOOM
from app.ui.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WIDE = EXAMPLES / "residual_cnn.nodegrad"  # 16 nodes in a row: wider than the canvas


def graph_on_screen(window) -> QRectF:
    """The viewport rectangle the shown graph's nodes cover."""
    rect = QRectF()
    for item in window.scene.node_items():
        rect = rect.united(item.sceneBoundingRect())
    return window.view.mapFromScene(rect).boundingRect().toRectF()


def all_shown(window) -> bool:
    """Whether every node of the shown graph is inside the canvas."""
    QApplication.processEvents()
    return QRectF(window.view.viewport().rect()).contains(graph_on_screen(window))


def test_file_open_fits_a_wide_graph_whole(make_window, monkeypatch) -> None:
    window = make_window(None, (1400, 860))
    monkeypatch.setattr(MainWindow, "ask_open_path", lambda self: str(WIDE))
    window.actions_by_name["actionOpen"].trigger()
    assert len(window.scene.node_items()) == 16
    assert all_shown(window)
    window.grab().save("/tmp/ui_fit_open.png")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.nodegrad")))
def test_every_example_opens_whole_at_a_small_window(make_window, name: str) -> None:
    window = make_window(None, (1100, 700))
    title = Path(name).stem.replace("_", " ")
    action = next(a for a in window.menu_examples.actions() if a.text() == title)
    action.trigger()  # File > Examples
    assert window.document.nodes and all_shown(window)


def test_the_command_line_path_is_shown_whole(make_window) -> None:
    assert all_shown(make_window(WIDE, (1200, 800)))


def test_a_three_node_graph_is_not_blown_up_on_open(make_window, tmp_path) -> None:
    from app.graph import io
    from app.graph.document import GraphDocument

    doc = GraphDocument()
    for k, type_id in enumerate(("relu", "tanh", "sigmoid")):
        doc.add_node(type_id, position=(k * 220.0, 0.0))
    io.save(doc, tmp_path / "three.nodegrad")
    window = make_window(None, (1400, 860))
    assert window.files.open(tmp_path / "three.nodegrad")
    assert all_shown(window) and window.view.zoom() == FIT_MAX_ZOOM


def test_entering_and_leaving_a_block_shows_its_nodes(make_window) -> None:
    window = make_window(EXAMPLES / "residual_blocks.nodegrad", (1100, 700))
    block = next(n.id for n in window.document.nodes.values() if n.block is not None)
    window.view.zoom_by(3.0)  # the user looks closely somewhere else
    window.view.centerOn(QPointF(5000, 5000))
    window.editor.scope.enter(block)
    assert window.editor.scope.path == (block,) and all_shown(window)
    window.grab().save("/tmp/ui_fit_block.png")
    window.view.zoom_by(3.0)
    window.view.centerOn(QPointF(-5000, 0))
    window.editor.scope.up()
    assert window.editor.scope.path == () and all_shown(window)


def test_a_training_setting_typed_in_keeps_the_view_fitting(qtbot, make_window) -> None:
    window = make_window(EXAMPLES / "digits_mlp.nodegrad", (1100, 700))
    epochs = window.inspector.findChild(QAbstractSpinBox, "edit_epochs")
    type_into(epochs, "3")
    assert window.document.training.epochs == 3
    before = window.view.zoom()
    window.resize(1600, 1000)  # e.g. the results dock closing after a run
    qtbot.wait(10)
    assert window.view.zoom() > before * 1.2 and all_shown(window)
