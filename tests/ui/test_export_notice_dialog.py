"""An export that writes a graph's blocks flat tells the user why: a notice dialog and the status
bar; an export with a class per block says only that it is done."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.graph import io
from app.graph.blocks.grouping import group
from app.graph.document import GraphDocument
from app.ui.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def loss_in_block() -> GraphDocument:
    """The spiral classifier with its last layer and its loss grouped (a loss inside a block)."""
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["logits", "loss"], name="head"))
    return doc


def test_file_export_of_blocks_written_flat_shows_why(window, tmp_path, monkeypatch) -> None:
    window.holder.open_document(loss_in_block())
    out = tmp_path / "head.py"
    monkeypatch.setattr(MainWindow, "ask_save_path", lambda self, *a: str(out))
    window.actions_by_name["actionExportPython"].trigger()  # File > Export > Python
    QApplication.processEvents()
    assert out.exists() and "class Head(" not in out.read_text(encoding="utf-8")
    box = window.last_dialog
    assert box is not None and box.objectName() == "noticeDialog" and box.isVisible()
    assert "block 'head'" in box.informativeText() and "loss node" in box.informativeText()
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Exported {out}") and "Written flat" in message
    box.grab().save("/tmp/ui_export_notice_dialog.png")
    window.grab().save("/tmp/ui_export_notice.png")


def test_copy_as_python_shows_the_notice_too(window) -> None:
    window.holder.open_document(loss_in_block())
    window.actions_by_name["actionCopyPython"].trigger()
    assert "class Head(" not in QGuiApplication.clipboard().text()
    assert window.last_dialog is not None and window.last_dialog.objectName() == "noticeDialog"
    assert "Written flat" in window.statusBar().currentMessage()


def test_an_export_with_block_classes_has_no_notice(window, tmp_path) -> None:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["dense1", "relu1"], name="dense_relu"))
    window.holder.open_document(doc)
    assert window.files.export("torch", tmp_path / "dense.py")
    assert "class DenseRelu(nn.Module)" in (tmp_path / "dense.py").read_text(encoding="utf-8")
    assert window.last_dialog is None
    assert window.statusBar().currentMessage() == f"Exported {tmp_path / 'dense.py'}"
