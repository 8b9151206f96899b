"""ONNX out and in: :func:`export_onnx` writes a graph's inference part, :func:`import_onnx`
reads a model made elsewhere into a laid-out graph with its weights."""

from __future__ import annotations

from app.graph.onnx.export import OnnxExportError, compile_for_inference, export_onnx, save_onnx

__all__ = ["OnnxExportError", "compile_for_inference", "export_onnx", "save_onnx"]
