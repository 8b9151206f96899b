"""Canvas edits through the mouse and the menus: refusals, delete, paste, insert, layout, files."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from ui_driver import (
    digits_document,
    drag_wire,
    move_node,
    select_only,
    show_document,
    view_point,
)


def wires(doc) -> set[tuple[str, str, str, str]]:
    return {(e.src, e.src_port, e.dst, e.dst_port) for e in doc.edges}


def test_cycle_and_kind_refusals_show_a_message(window) -> None:
    show_document(window, digits_document())
    before = wires(window.document)
    drag_wire(window, ("relu_1", "y"), ("linear_1", "x"))  # relu_1 already follows linear_1
    assert wires(window.document) == before
    assert (
        window.statusBar()
        .currentMessage()
        .startswith("Connection refused: The wire would close a loop: linear_1 → relu_1 → linear_1")
    )
    drag_wire(window, ("relu_1", "y"), ("relu_1", "x"))
    assert window.statusBar().currentMessage() == (
        "Connection refused: Cannot connect a node to itself"
    )
    drag_wire(window, ("cross_entropy_loss_1", "loss"), ("output_1", "x"))  # loss into tensor
    assert wires(window.document) == before
    assert "refused" in window.statusBar().currentMessage().lower()
    assert window.undo_stack.count() == 0


def test_new_wire_replaces_the_wire_on_an_input(window) -> None:
    show_document(window, digits_document())
    drag_wire(window, ("linear_1", "y"), ("output_1", "x"))
    assert ("linear_1", "y", "output_1", "x") in wires(window.document)
    assert ("linear_2", "y", "output_1", "x") not in wires(window.document)
    window.undo_stack.undo()
    assert ("linear_2", "y", "output_1", "x") in wires(window.document)


def test_delete_node_with_wires_and_undo(window) -> None:
    show_document(window, digits_document())
    before = window.document.to_dict()
    select_only(window, "relu_1")
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert "relu_1" not in window.document.nodes
    assert not any("relu_1" in (e.src, e.dst) for e in window.document.edges)
    assert len(window.scene.edge_items()) == len(window.document.edges) == 4
    assert window.menu_edit.actions()[0].text() == "&Undo Delete ReLU 'relu_1'"
    window.undo_stack.undo()
    assert window.document.to_dict() == before


def test_copy_paste_and_duplicate(window) -> None:
    show_document(window, digits_document())
    for node_id in ("linear_1", "relu_1"):
        window.scene.node_item(node_id).setSelected(True)
    assert window.edit_ops.copy()
    new_ids = window.edit_ops.paste(QPointF(0, 400))
    assert sorted(new_ids) == ["linear_3", "relu_2"]
    assert ("linear_3", "y", "relu_2", "x") in wires(window.document)
    assert window.document.nodes["linear_3"].params["units"] == 64
    assert window.scene.selected_node_ids() == ["linear_3", "relu_2"]
    assert window.undo_stack.undoText() == "Paste 2 nodes"
    dup = window.edit_ops.duplicate()
    assert len(dup) == 2 and len(window.document.nodes) == 10
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert len(window.document.nodes) == 6


def test_dropping_a_node_on_a_wire_inserts_it(window) -> None:
    show_document(window, digits_document())
    node_id = window.editor.add_node("tanh", QPointF(-100, 300))
    assert node_id == "tanh_1"
    edge = next(e for e in window.document.edges if e.src == "linear_1")
    label = window.scene.edge_item(edge).path().pointAtPercent(0.5)
    move_node(window, node_id, label - QPointF(90, 30))
    got = wires(window.document)
    assert ("linear_1", "y", "tanh_1", "x") in got and ("tanh_1", "y", "relu_1", "x") in got
    assert ("linear_1", "y", "relu_1", "x") not in got
    assert window.undo_stack.undoText() == "Insert Tanh"
    window.undo_stack.undo()
    assert ("linear_1", "y", "relu_1", "x") in wires(window.document)


def test_auto_layout_leaves_no_overlaps(window) -> None:
    doc = digits_document()
    for node_id in list(doc.nodes):
        doc.move_nodes({node_id: (0, 0)})
    show_document(window, doc)
    window.actions_by_name["actionAutoLayout"].trigger()
    rects = [item.body_rect() for item in window.scene.node_items()]
    for a, b in itertools.combinations(rects, 2):
        assert not a.adjusted(-8, -8, 8, 8).intersects(b)
    xs = {n: p.position[0] for n, p in window.document.nodes.items()}
    assert xs["dataset_1"] < xs["linear_1"] < xs["relu_1"] < xs["linear_2"]
    window.undo_stack.undo()
    assert all(n.position == (0.0, 0.0) for n in window.document.nodes.values())
    window.actions_by_name["actionAutoLayoutVertical"].trigger()
    ys = {n: p.position[1] for n, p in window.document.nodes.items()}
    assert ys["dataset_1"] < ys["linear_1"] < ys["relu_1"] < ys["linear_2"]


def test_bad_file_keeps_the_document_and_lists_every_problem(window, tmp_path) -> None:
    show_document(window, digits_document())
    before = window.document.to_dict()
    bad = tmp_path / "bad.nodegrad"
    bad.write_text(
        '{"format": "nodegrad", "version": 1, "nodes": [{"id": "a", "type": '
        '"nope", "label": "", "position": [0, 0], "params": {}}, {"id": "b", '
        '"type": "linear", "label": "", "position": [0, 0], "params": '
        '{"units": -4}}], "edges": [], "training": {}}',
        encoding="utf-8",
    )
    assert not window.files.open(bad)
    assert window.document.to_dict() == before
    dialog = window.last_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.informativeText()
    assert "nope" in text and "units" in text
    assert text.splitlines()[-1] == "Nothing was changed: the graph you had stays open."
    dialog.close()


def test_rubber_band_then_dragging_moves_all_as_one_command(window) -> None:
    show_document(window, digits_document())
    viewport = window.view.viewport()
    scene = window.scene
    top_left = scene.node_item("linear_1").sceneBoundingRect().topLeft() - QPointF(20, 20)
    bottom_right = scene.node_item("relu_1").sceneBoundingRect().bottomRight() + QPointF(20, 20)
    start, end = view_point(window, top_left), view_point(window, bottom_right)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (i / 5))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert scene.selected_node_ids() == ["linear_1", "relu_1"]
    old = {n: window.document.nodes[n].position for n in ("linear_1", "relu_1")}
    # dropped 3 px right and 207 px down: the grid (20 px) snaps the move to (0, 200)
    move_node(window, "linear_1", QPointF(old["linear_1"][0] + 3, old["linear_1"][1] + 207))
    assert window.undo_stack.count() == 1 and window.undo_stack.undoText() == "Move 2 nodes"
    for n in ("linear_1", "relu_1"):
        assert window.document.nodes[n].position == (old[n][0], old[n][1] + 200)
    window.undo_stack.undo()
    assert {n: window.document.nodes[n].position for n in old} == old
    assert scene.node_item("relu_1").pos() == QPointF(*old["relu_1"])


def test_click_a_wire_and_delete_it(window) -> None:
    show_document(window, digits_document())
    edge = next(e for e in window.document.edges if e.dst == "output_1")
    item = window.scene.edge_item(edge)
    point = view_point(window, item.path().pointAtPercent(0.3))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert item.isSelected()
    QTest.keyClick(window.view, Qt.Key.Key_Backspace)
    assert edge not in window.document.edges and len(window.document.edges) == 5
    assert window.undo_stack.undoText() == "Disconnect Linear 'linear_2'.y → Output 'output_1'.x"


def test_space_drag_pans_the_view(window) -> None:
    show_document(window, digits_document())
    view, viewport = window.view, window.view.viewport()
    before = view.mapToScene(QPoint(0, 0))
    view.setFocus()
    QTest.keyPress(view, Qt.Key.Key_Space)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    QTest.mouseMove(viewport, QPoint(300, 200))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(QPoint(0, 0))
    assert after.x() > before.x() and after.y() > before.y()
    assert window.undo_stack.count() == 0 and window.scene.selected_node_ids() == []


def test_pick_up_a_wire_by_its_input_and_move_or_drop_it(window) -> None:
    show_document(window, digits_document())
    before = window.document.to_dict()
    drag_wire(window, ("relu_1", "x"), ("output_1", "x"))
    got = wires(window.document)
    assert ("linear_1", "y", "output_1", "x") in got
    assert not any(w[2:] == ("relu_1", "x") for w in got)
    assert window.undo_stack.undoText() == "Reconnect Linear 'linear_1'.y → Output 'output_1'.x"
    window.undo_stack.undo()
    assert window.document.to_dict() == before
    drag_wire(window, ("relu_1", "x"), None, end_scene=QPointF(-200, 600))
    assert not any(w[2:] == ("relu_1", "x") for w in wires(window.document))
    assert not window.view.quick_add.isVisible()
    window.undo_stack.undo()
    assert window.document.to_dict() == before
    assert all(item.isVisible() for item in window.scene.edge_items())


def test_auto_layout_of_a_larger_mixed_graph_has_no_overlaps(window) -> None:
    from app.graph.document import GraphDocument

    doc = GraphDocument()
    doc.add_node("input", {"shape": "8"}, (0, 0))
    previous = ["input_1"]
    for i in range(30):
        type_id = ("linear", "add", "relu", "concat", "dropout")[i % 5]
        doc.add_node(type_id, {}, (0, 0))
        node_id = list(doc.nodes)[-1]
        for n, port in enumerate(doc.nodes[node_id].spec.inputs):
            src = previous[-1 - (n * 3 + i) % len(previous)]
            doc.connect(src, "x" if src == "input_1" else "y", node_id, port.name)
        previous.append(node_id)
    show_document(window, doc)
    for action in ("actionAutoLayout", "actionAutoLayoutVertical"):
        window.actions_by_name[action].trigger()
        rects = [item.body_rect() for item in window.scene.node_items()]
        for a, b in itertools.combinations(rects, 2):
            assert not a.adjusted(-8, -8, 8, 8).intersects(b)


def test_auto_layout_leaves_room_for_every_shape_label(window) -> None:
    from app.graph.document import GraphDocument

    doc = GraphDocument()  # long labels: N×3×32×32, N×16×32×32, N×16×16×16, N×4096
    doc.add_node("input", {"shape": "3,32,32"}, (0, 0), node_id="images")
    chain = [("conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
             ("relu", {}), ("max_pool2d", {"kernel_size": 2, "stride": 2}), ("flatten", {}),
             ("linear", {"units": 10})]  # fmt: skip
    last = "images"
    for k, (type_id, params) in enumerate(chain):
        doc.add_node(type_id, params, (0, 0), node_id=f"n{k}")
        doc.connect(last, "x" if last == "images" else "y", f"n{k}", "x")
        last = f"n{k}"
    show_document(window, doc)
    for action in ("actionAutoLayout", "actionAutoLayoutVertical"):
        window.actions_by_name[action].trigger()
        labels = [e for e in window.scene.edge_items() if e.label]
        assert len(labels) == 5
        assert all(e.label_shown() for e in labels), (action, [e.label for e in labels])


def test_paste_into_another_document(window, qtbot) -> None:
    from app.ui.main_window import MainWindow

    show_document(window, digits_document())
    for node_id in ("dataset_1", "linear_1"):
        window.scene.node_item(node_id).setSelected(True)
    window.actions_by_name["actionCopy"].trigger()
    other = MainWindow()
    qtbot.addWidget(other)
    assert other.edit_ops.paste(QPointF(0, 0)) == ["dataset_1", "linear_1"]
    assert wires(other.document) == {("dataset_1", "x", "linear_1", "x")}
    assert other.document.nodes["dataset_1"].params["name"] == "digits"


def test_a_refused_parameter_names_the_node_as_the_problems_panel_does(window) -> None:
    show_document(window, digits_document())
    assert window.editor.set_param("linear_1", "units", -3) is not None
    message = window.statusBar().currentMessage()
    assert message.startswith("Refused: Linear 'linear_1' units: "), message
    assert window.document.nodes["linear_1"].params["units"] != -3
    assert window.undo_stack.count() == 0
