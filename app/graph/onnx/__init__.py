"""ONNX out and in: :func:`export_onnx` writes a graph's inference part, :func:`import_onnx`
reads a model made elsewhere into a laid-out graph with its weights."""

from __future__ import annotations

from app.graph.onnx.export import OnnxExportError, compile_for_inference, export_onnx, save_onnx
from app.graph.onnx.importer import import_model, import_onnx, save_imported
from app.graph.onnx.reader import OnnxImportError

__all__ = [
    "OnnxExportError",
    "OnnxImportError",
    "compile_for_inference",
    "export_onnx",
    "import_model",
    "import_onnx",
    "save_imported",
    "save_onnx",
]
