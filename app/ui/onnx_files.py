"""File > Export > ONNX and File > Import ONNX: the editor's side of :mod:`app.graph.onnx`.

Export writes the graph's inference part with the weights the editor holds (trained, or loaded
with the graph). Import opens the model as a new, unsaved graph (through the
:class:`~app.ui.document_holder.DocumentHolder`, as Open does) whose weights Continue Training
and Step start from; saving it writes them beside the graph.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.graph.compile import CompileError
from app.graph.errors import GraphError
from app.ui.files import KEPT, FileController

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


def ask_onnx_path(parent: QWidget | None) -> str:
    """The standard open dialog for ONNX models (blocking; tests replace this function)."""
    return QFileDialog.getOpenFileName(parent, "Import ONNX model", "", ONNX_FILTER)[0]


def export_onnx(files: FileController, path: str | Path | None = None) -> bool:
    """Write the document as an ONNX model (asking where when ``path`` is None)."""
    from app.graph.onnx import export_onnx as build
    from app.graph.onnx import save_onnx

    keeper = files.weights_keeper
    weights = keeper.weights() if keeper is not None else None
    try:
        model = build(files.holder.document, weights or None)
    except GraphError as error:
        found = error.diagnostics if isinstance(error, CompileError) else []
        lines = [d.message if d.node_id is None else f"{d.node_id}: {d.message}" for d in found]
        files.dialogs.show_problems("Cannot export this graph to ONNX", lines or [error.message])
        return False
    if path is None:
        path = files.dialogs.ask_save_path("Export ONNX", ONNX_FILTER, ".onnx")
        if not path:
            return False
    try:
        save_onnx(model, path)
    except OSError as error:
        files.dialogs.show_problems(f"Could not write {path}", [str(error)])
        return False
    origin = "trained weights" if weights else "initial weights"
    files.status.show_message(f"Exported {path} (ONNX, {origin})")
    return True


def import_onnx(
    files: FileController, parent: QWidget | None = None, path: str | Path | None = None
) -> bool:
    """Open an ONNX model as a new, unsaved graph with its weights (after asking to save)."""
    from app.graph.onnx import import_onnx as read

    if not files.maybe_save():
        return False
    if path is None:
        path = ask_onnx_path(parent)
        if not path:
            return False
    name = Path(path).name
    try:
        document, weights = read(path)
    except GraphError as error:
        files.dialogs.show_problems(f"Could not import {name}", [error.message], KEPT)
        return False
    files.holder.open_document(document, None, modified=True)
    if files.weights_keeper is not None:
        files.weights_keeper.set_weights(weights)
    files.status.show_message(f"Imported {name}: add a Dataset and a loss to train it further")
    return True
