"""The palette's Blocks section through the real widgets: insert, undo, save, unreadable files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QTreeWidgetItem

from app.graph.blocks.library import SUFFIX
from app.ui import block_library
from app.ui.palette import BLOCK_MIME, BLOCK_ROLE, SPEC_ROLE


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's block folder of the windows these tests make."""
    target = tmp_path / "blocks"
    monkeypatch.setattr(block_library, "user_blocks_folder", lambda: target)
    return target


def block_item(window: Any, title: str, where: str = "") -> QTreeWidgetItem:
    for item in window.node_palette.block_entries():
        if item.text(0) == title and item.data(0, SPEC_ROLE).help.startswith(where):
            return item
    raise AssertionError(f"no block entry {title!r} ({where})")


def wait_for(qtbot: Any, window: Any, title: str, where: str) -> QTreeWidgetItem:
    """The entry once the palette shows it (it follows the document after the event loop)."""
    found: list[QTreeWidgetItem] = []

    def shown() -> bool:
        found[:] = [
            i
            for i in window.node_palette.block_entries()
            if i.text(0) == title and i.data(0, SPEC_ROLE).help.startswith(where)
        ]
        return bool(found)

    qtbot.waitUntil(shown)
    return found[0]


def double_click(qtbot: Any, window: Any, item: QTreeWidgetItem) -> None:
    tree = window.node_palette.tree
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def titles(window: Any) -> list[str]:
    return [i.text(0) for i in window.node_palette.block_entries()]


def test_builtin_blocks_are_listed(folder: Path, make_window: Any) -> None:
    window = make_window()
    assert titles(window) == ["mlp_head", "residual", "transformer"]
    help_text = block_item(window, "residual").data(0, SPEC_ROLE).help
    assert help_text.startswith("Built-in · Two 3×3 convolutions")


def test_double_click_inserts_one_step_and_undo_takes_it_all_back(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    window = make_window()
    double_click(qtbot, window, block_item(window, "residual"))
    doc = window.holder.document
    assert list(doc.nodes) == ["residual_1"] and list(doc.blocks) == ["residual"]
    assert window.scene.selected_node_ids() == ["residual_1"]
    assert window.undo_stack.count() == 1
    # the document's own block is offered now too
    assert wait_for(qtbot, window, "residual", "In this graph")
    window.actions_by_name["actionUndo"].trigger()
    assert not doc.nodes and not doc.blocks
    qtbot.waitUntil(lambda: titles(window) == ["mlp_head", "residual", "transformer"])
    window.actions_by_name["actionRedo"].trigger()
    assert list(doc.nodes) == ["residual_1"] and list(doc.blocks) == ["residual"]


def test_a_second_insert_reuses_the_definition(qtbot: Any, folder: Path, make_window: Any) -> None:
    window = make_window()
    double_click(qtbot, window, block_item(window, "mlp_head"))
    double_click(qtbot, window, wait_for(qtbot, window, "mlp_head", "In this graph"))
    doc = window.holder.document
    assert sorted(doc.nodes) == ["mlp_head_1", "mlp_head_2"] and list(doc.blocks) == ["mlp_head"]


def test_save_block_writes_the_file_and_the_palette_lists_it(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    window = make_window()
    save = window.actions_by_name["actionSaveBlock"]
    assert not save.isEnabled()
    double_click(qtbot, window, block_item(window, "transformer"))
    qtbot.waitUntil(save.isEnabled)  # the inserted block node is selected
    count = window.undo_stack.count()
    save.trigger()
    assert (folder / f"transformer{SUFFIX}").is_file()
    assert wait_for(qtbot, window, "transformer", "Saved")
    assert window.undo_stack.count() == count
    assert "Saved block 'transformer'" in window.statusBar().currentMessage()


def test_an_unreadable_library_file_is_listed_with_its_error(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    folder.mkdir(parents=True)
    (folder / f"broken{SUFFIX}").write_text('{"format": "nodegrad-block", "version": 1}')
    window = make_window()
    item = block_item(window, "broken")
    assert item.data(0, SPEC_ROLE).help.startswith("Cannot be read: block: expected the name")
    assert not item.flags() & Qt.ItemFlag.ItemIsDragEnabled
    double_click(qtbot, window, item)
    assert not window.holder.document.nodes
    assert "broken" in item.toolTip(0) or "Cannot be read" in item.toolTip(0)


def test_inside_an_open_block_the_palette_offers_its_ports_and_inserts_there(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    window = make_window()
    double_click(qtbot, window, block_item(window, "mlp_head"))
    assert "block_input" not in window.node_palette.visible_type_ids()
    window.editor.scope.enter("mlp_head_1")
    qtbot.waitUntil(lambda: "block_input" in window.node_palette.visible_type_ids())
    assert "block_output" in window.node_palette.visible_type_ids()
    double_click(qtbot, window, wait_for(qtbot, window, "residual", "Built-in"))
    doc = window.holder.document
    assert "residual_1" in doc.blocks["mlp_head"].body.nodes
    assert list(doc.nodes) == ["mlp_head_1"]
    window.actions_by_name["actionUndo"].trigger()
    assert "residual_1" not in doc.blocks["mlp_head"].body.nodes and "residual" not in doc.blocks
    port = next(i for i in window.node_palette.entries() if i.text(0) == "Block input")
    double_click(qtbot, window, port)
    inputs = [n for n in doc.blocks["mlp_head"].body.nodes.values() if n.type_id == "block_input"]
    assert len(inputs) == 2 and list(doc.nodes) == ["mlp_head_1"]


def test_a_block_dropped_on_the_canvas_is_inserted_where_it_fell(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    window = make_window()
    item = block_item(window, "residual")
    data = QMimeData()
    data.setData(BLOCK_MIME, item.data(0, BLOCK_ROLE).encode())
    viewport = window.view.viewport()
    spot = QPointF(viewport.width() / 2, viewport.height() / 2)
    copy, left, plain = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0)
    enter = QDragEnterEvent(spot.toPoint(), copy, data, left, plain)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(spot, copy, data, left, plain))
    doc = window.holder.document
    assert list(doc.nodes) == ["residual_1"]
    scene_point = window.view.mapToScene(QPoint(int(spot.x()), int(spot.y())))
    x, y = doc.nodes["residual_1"].position
    assert abs(x - scene_point.x()) < 120 and abs(y - scene_point.y()) < 60


def test_the_blocks_section_renders_readably(
    qtbot: Any, folder: Path, make_window: Any, tmp_path: Path
) -> None:
    folder.mkdir(parents=True)
    (folder / f"broken{SUFFIX}").write_text("{")
    window = make_window()
    double_click(qtbot, window, block_item(window, "residual"))
    window.editor.scope.enter("residual_1")
    qtbot.waitUntil(lambda: "block_input" in window.node_palette.visible_type_ids())
    palette = window.node_palette
    palette.tree.scrollToItem(palette.block_entries()[-1])
    palette.grab().save(str(tmp_path / "palette_blocks.png"))
    for item in palette.block_entries():
        assert palette.tree.visualItemRect(item).height() >= palette.fontMetrics().height() * 2


def test_the_right_click_menu_of_a_block_node_saves_it(
    qtbot: Any, folder: Path, make_window: Any
) -> None:
    window = make_window()
    double_click(qtbot, window, block_item(window, "mlp_head"))
    item = window.scene.node_item("mlp_head_1")
    point = window.view.mapFromScene(item.pos() + QPointF(60, 12))
    menu = window.view.context_menu(point)
    save = next(a for a in menu.actions() if a.objectName() == "actionSaveBlock")
    save.trigger()
    assert (folder / f"mlp_head{SUFFIX}").is_file()
    window.scene.clearSelection()
    assert not window.actions_by_name["actionSaveBlock"].isEnabled()


def test_search_then_enter_inserts_a_block(qtbot: Any, folder: Path, make_window: Any) -> None:
    window = make_window()
    qtbot.keyClicks(window.node_palette.search, "residual")
    assert [i.text(0) for i in window.node_palette.block_entries() if not i.isHidden()] == [
        "residual"
    ]
    qtbot.keyClick(window.node_palette.search, Qt.Key.Key_Return)
    assert list(window.holder.document.blocks) == ["residual"]


def test_a_block_cannot_be_inserted_into_itself(qtbot: Any, folder: Path, make_window: Any) -> None:
    window = make_window()
    double_click(qtbot, window, block_item(window, "mlp_head"))
    window.editor.scope.enter("mlp_head_1")
    double_click(qtbot, window, wait_for(qtbot, window, "mlp_head", "In this graph"))
    body = window.holder.document.blocks["mlp_head"].body
    assert not any(n.block is not None for n in body.nodes.values())
    assert "cannot contain itself" in window.statusBar().currentMessage()
    assert window.undo_stack.count() == 1
