"""Write a graph out as code: ``export_python`` (an engine script), ``export_torch`` (PyTorch),
and ``write_export`` (the script and the trained weights beside it)."""

from __future__ import annotations

from app.graph.export.common import ExportedScript
from app.graph.export.files import (
    export_code,
    export_script,
    save_export,
    script_weights,
    weights_file,
    write_export,
    write_weights,
)
from app.graph.export.python import export_python
from app.graph.export.torch import export_torch

__all__ = [
    "ExportedScript",
    "export_code",
    "export_python",
    "export_script",
    "export_torch",
    "save_export",
    "script_weights",
    "weights_file",
    "write_export",
    "write_weights",
]
