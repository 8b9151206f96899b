"""Write a graph out as code: ``export_python`` (an engine script), ``export_torch`` (PyTorch)."""

from __future__ import annotations

from app.graph.export.python import export_python
from app.graph.export.torch import export_torch

__all__ = ["export_python", "export_torch"]
