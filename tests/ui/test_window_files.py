"""The window around the canvas: files, title, recent files, export, recovery, locking."""

from __future__ import annotations

import ast
import os

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication
from ui_driver import add_by_palette, digits_document, drag_wire, show_document, type_into

from app.graph import io
from app.ui import files as files_module
from app.ui.main_window import MainWindow
from app.ui.recovery import Recovery


def test_title_modified_marker_and_recent_files(window, tmp_path) -> None:
    assert window.windowTitle() == "Untitled[*] — nodegrad" and not window.isWindowModified()
    add_by_palette(window, "relu")
    assert window.isWindowModified()
    path = tmp_path / "one.nodegrad"
    assert window.files.save_as(path)
    assert window.windowTitle().startswith("one.nodegrad") and not window.isWindowModified()
    assert window.files.recent_files()[0] == str(path)
    assert QSettings().value("recentFiles")[0] == str(path)
    window.undo_stack.undo()
    assert window.isWindowModified()
    window.undo_stack.redo()
    assert not window.isWindowModified()


def test_close_asks_about_unsaved_changes(window, monkeypatch) -> None:
    add_by_palette(window, "relu")
    asked = []
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: asked.append(1) or "cancel")
    assert not window.close() and window.isVisible() and asked
    assert not window.files.new() and window.document.nodes
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: "discard")
    assert window.close()


def test_drop_a_file_on_the_window_opens_it(window, tmp_path) -> None:
    path = tmp_path / "digits.nodegrad"
    io.save(digits_document(), path)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert len(window.document.nodes) == 6 and window.files.path == path


def test_export_python_torch_and_copy_as_python(window, tmp_path) -> None:
    show_document(window, digits_document())
    for target in ("python", "torch"):
        out = tmp_path / f"model_{target}.py"
        assert window.files.export(target, out)
        ast.parse(out.read_text(encoding="utf-8"))
    window.actions_by_name["actionCopyPython"].trigger()
    ast.parse(QGuiApplication.clipboard().text())


def test_exported_file_reads_the_graphs_data_relative_to_itself(window, tmp_path) -> None:
    from tests.graph.test_data_paths import csv_graph

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    rows = ["a,b,y"] + [f"{i},{i % 3},{2 * i + 1}" for i in range(20)]
    (project / "data" / "points.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    io.save(csv_graph("data/points.csv"), project / "graph.nodegrad")
    assert window.files.open(str(project / "graph.nodegrad"))
    (tmp_path / "out").mkdir()
    assert window.files.export("python", tmp_path / "out" / "model.py")
    code = (tmp_path / "out" / "model.py").read_text(encoding="utf-8")
    assert "Path(__file__).resolve().parent / '../project/data/points.csv'" in code


def test_examples_menu_lists_bundled_graphs(qtbot, tmp_path, monkeypatch) -> None:
    io.save(digits_document(), tmp_path / "digits_mlp.nodegrad")
    monkeypatch.setattr(files_module, "EXAMPLES_DIR", tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    (action,) = w.menu_examples.actions()
    assert action.text() == "digits mlp"
    action.trigger()
    assert len(w.document.nodes) == 6
    assert w.files.path is None and w.windowTitle().startswith("digits_mlp (example)")
    assert str(tmp_path / "digits_mlp.nodegrad") not in w.files.recent_files()


def test_autosave_and_recovery_after_a_crash(qtbot, window, tmp_path) -> None:
    show_document(window, digits_document())
    add_by_palette(window, "tanh")
    window.autosave()
    assert window.recovery.path.exists()
    window.undo_stack.undo()
    window.autosave()
    assert not window.recovery.path.exists()
    window.undo_stack.redo()
    window.autosave()
    crashed = Recovery()
    crashed.path = crashed.folder / "recovery-999999.nodegrad"
    os.replace(window.recovery.path, crashed.path)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.banner.isVisibleTo(w) and "did not exit cleanly" in w.banner.text.text()
    w.banner.restore_button.click()
    assert "tanh_1" in w.document.nodes and w.isWindowModified()
    assert not w.banner.isVisibleTo(w)
    assert crashed.path.exists()  # kept until the restored work is autosaved or saved
    w.autosave()
    assert not crashed.path.exists()


def test_locked_editing_refuses_edits_with_a_message(window) -> None:
    show_document(window, digits_document())
    before = window.document.to_dict()
    window.set_editing_locked(True, "training is running")
    drag_wire(window, ("linear_1", "y"), ("output_1", "x"))
    window.scene.node_item("relu_1").setSelected(True)
    window.actions_by_name["actionDelete"].trigger()
    window.editor.add_node("tanh", QPointF(0, 0))
    assert window.document.to_dict() == before
    assert "training is running" in window.statusBar().currentMessage()
    assert not window.actions_by_name["actionUndo"].isEnabled()
    window.scene.clearSelection()
    fields = window.inspector.settings_fields
    assert not fields["batch_size"].widget.isEnabled()
    assert fields["learning_rate"].widget.isEnabled()
    type_into(fields["learning_rate"].input, "0.2")
    assert window.document.training.learning_rate == 0.2  # a running session takes it live
    window.scene.node_item("linear_1").setSelected(True)
    assert not window.inspector.fields["units"].input.isEnabled()
    window.scene.clearSelection()
    window.scene.node_item("relu_1").setSelected(True)
    window.set_editing_locked(False)
    window.actions_by_name["actionDelete"].trigger()
    QApplication.processEvents()
    assert "relu_1" not in window.document.nodes


def test_every_shortcut_is_unambiguous_and_listed(window) -> None:
    from app.ui.actions import shortcut_table

    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen or seen[text] == action.objectName(), (
                f"{text} is bound to {seen.get(text)} and {action.objectName()}"
            )
            seen[text] = action.objectName()
    rows = dict(shortcut_table())
    assert rows["F"] == "Fit View" and rows["Del / Backspace"] == "Delete"


def test_weights_are_saved_beside_the_graph_and_handed_back(window, tmp_path, monkeypatch) -> None:
    import numpy as np

    from app.graph.compile import compile_document

    show_document(window, digits_document())
    fresh = compile_document(window.document).state_dict()
    trained = {name: value + 1 for name, value in fresh.items()}  # weights that fit the graph
    monkeypatch.setattr(window.training, "weights", lambda: trained)
    received = []
    monkeypatch.setattr(window.training, "set_weights", received.append)
    path = tmp_path / "trained.nodegrad"
    assert window.files.save_as(path)
    assert (tmp_path / "trained.safetensors").exists()
    assert window.files.open(path)
    assert len(received) == 1 and all(
        np.array_equal(received[0][name], trained[name]) for name in trained
    )
