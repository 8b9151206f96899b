"""Blocks on the canvas: the scope (which graph is shown), opening blocks, editing inside."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import LEFT, digits_document, show_document, view_point

from app.graph.blocks import grouping
from app.graph.blocks.mutations import EditBlock
from app.ui.block_scope import BlockScope
from app.ui.canvas.scene import GraphScene
from app.ui.document_holder import DocumentHolder
from app.ui.editor import Editor


def grouped(editor: Editor, ids: list[str]) -> str:
    """Group ``ids`` of the graph shown through the editor; the new block node's id."""
    before = set(editor.graph.nodes)
    mutation = grouping.group(editor.document, ids, editor.scope.definition)
    assert editor.push(mutation, scoped=False) is None
    (new,) = [n for n in editor.graph.nodes if n not in before]
    return new


@pytest.fixture
def parts(qapp):
    holder = DocumentHolder(digits_document())
    editor = Editor(holder)
    scene = GraphScene(holder)
    yield holder, editor, scene
    holder.detach()


def test_the_editor_and_the_scene_share_the_holders_scope(parts) -> None:
    holder, editor, scene = parts
    assert scene.scope is editor.scope is BlockScope.for_holder(holder)
    assert editor.scope.path == () and editor.scope.definition is None
    assert editor.scope.graph() is holder.document


def test_an_edit_inside_an_open_block_is_one_undoable_edit_of_its_definition(parts) -> None:
    holder, editor, scene = parts
    block_id = grouped(editor, ["linear_1", "relu_1"])
    scope = editor.scope
    scope.enter(block_id)
    body = holder.document.nodes[block_id].block.body  # type: ignore[union-attr]
    assert scope.graph() is body and scope.definition == "block"
    assert {i.node_id for i in scene.node_items()} == set(body.nodes)
    assert scope.flat_id("relu_1") == f"{block_id}__relu_1"
    new = editor.add_node("tanh", QPointF(0, 300))
    assert new in body.nodes and new in {i.node_id for i in scene.node_items()}
    command = holder.undo_stack.command(holder.undo_stack.index() - 1)
    assert isinstance(command.mutation, EditBlock) and "in 'block'" in command.text()
    holder.undo_stack.undo()
    assert new not in body.nodes and new not in {i.node_id for i in scene.node_items()}
    holder.undo_stack.redo()
    assert new in {i.node_id for i in scene.node_items()}


def test_undoing_the_group_while_inside_shows_the_graph_again(parts) -> None:
    holder, editor, scene = parts
    original = holder.document.to_dict()
    block_id = grouped(editor, ["linear_1", "relu_1"])
    editor.scope.enter(block_id)
    editor.set_param("linear_1", "units", 32)
    holder.undo_stack.undo()
    holder.undo_stack.undo()
    assert editor.scope.path == ()
    assert holder.document.to_dict() == original
    assert {i.node_id for i in scene.node_items()} == set(holder.document.nodes)
    assert len(scene.edge_items()) == len(holder.document.edges)


def test_the_scope_refuses_a_path_that_does_not_exist(parts) -> None:
    _holder, editor, _scene = parts
    with pytest.raises(ValueError, match="no block"):
        editor.scope.enter("linear_1")
    with pytest.raises(ValueError, match="no block"):
        editor.scope.open(("nothing",))
    assert editor.scope.path == ()


def test_the_scope_locates_flat_ids_and_reveals_them(parts) -> None:
    _holder, editor, _scene = parts
    block_id = grouped(editor, ["linear_1", "relu_1"])
    scope = editor.scope
    assert scope.locate(f"{block_id}__relu_1") == ((block_id,), "relu_1")
    assert scope.locate(f"{block_id}_r2__relu_1") == ((block_id,), "relu_1")
    assert scope.locate("dataset_1") == ((), "dataset_1")
    assert scope.locate("nowhere") is None
    seen: list[str] = []
    scope.revealed.connect(seen.append)
    scope.reveal(f"{block_id}__relu_1")
    assert scope.path == (block_id,) and seen == ["relu_1"]
    scope.reveal("dataset_1")
    assert scope.path == () and seen == ["relu_1", "dataset_1"]


def test_replacing_the_document_shows_its_graph(parts) -> None:
    holder, editor, scene = parts
    block_id = grouped(editor, ["linear_1", "relu_1"])
    editor.scope.enter(block_id)
    holder.open_document(digits_document())
    assert editor.scope.path == ()
    assert {i.node_id for i in scene.node_items()} == set(holder.document.nodes)


def test_double_click_opens_a_block_and_the_breadcrumb_goes_back(window) -> None:
    show_document(window, digits_document())
    block_id = grouped(window.editor, ["linear_1", "relu_1"])
    window.view.fit_all()
    QApplication.processEvents()
    item = window.scene.node_item(block_id)
    point = view_point(window, item.pos() + QPointF(60, 12))
    QTest.mouseDClick(window.view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()
    assert window.editor.scope.path == (block_id,)
    assert not window.breadcrumb.isHidden()
    assert window.breadcrumb.texts() == ["Graph", "block"]
    assert {i.node_id for i in window.scene.node_items()} >= {"linear_1", "relu_1"}
    QTest.mouseClick(window.breadcrumb.crumbs[0], LEFT)
    assert window.editor.scope.path == ()
    assert window.breadcrumb.isHidden()
    assert block_id in {i.node_id for i in window.scene.node_items()}


def test_escape_leaves_the_open_block(window) -> None:
    show_document(window, digits_document())
    block_id = grouped(window.editor, ["linear_1", "relu_1"])
    window.editor.scope.enter(block_id)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    assert window.editor.scope.path == ()
