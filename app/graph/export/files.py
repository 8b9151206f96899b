"""Write an exported script and the trained weights it carries.

The weights beside a script (``model.py`` -> ``model.weights.npz``) are NumPy arrays keyed as the
script's ``Model.state_dict()``: the engine's own keys for the engine script, PyTorch's (through
``Layer.torch_state_dict()``) for the PyTorch script. Both load with ``allow_pickle=False``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from app.graph.compile import compile_document
from app.graph.errors import GraphError
from app.graph.export.common import ExportedScript, plan_model, validate_for_export
from app.graph.export.python import engine_export
from app.graph.export.torch import torch_export
from engine import EngineError

if TYPE_CHECKING:
    from app.graph.document import GraphDocument

Target = Literal["python", "torch"]

__all__ = [
    "export_code",
    "export_script",
    "save_export",
    "script_weights",
    "weights_file",
    "write_export",
    "write_weights",
]


def weights_file(script: str | os.PathLike[str]) -> Path:
    """The weights file an exported script reads by default: ``model.py`` ->
    ``model.weights.npz``."""
    return Path(script).with_suffix(".weights.npz")


def export_code(
    document: GraphDocument,
    target: Target,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    train: bool = True,
) -> str:
    """The ``"python"`` (engine) or ``"torch"`` script of the document."""
    return export_script(document, target, title, script_dir, train).code


def export_script(
    document: GraphDocument,
    target: Target,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    train: bool = True,
) -> ExportedScript:
    """The ``"python"`` (engine) or ``"torch"`` script of the document and its notice (one
    line saying why a graph with blocks was written flat; "" otherwise)."""
    export = engine_export if target == "python" else torch_export
    return export(document, title, script_dir, train=train)


def script_weights(
    document: GraphDocument, target: Target, weights: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The graph's trained ``weights`` (``"node_id.param"`` arrays, as the editor and the
    graph's weights file hold them) keyed as the exported script's ``Model.state_dict()``.

    Raises
    ------
    GraphError
        When the weights do not fit the graph, or a node has no PyTorch counterpart for them.
    """
    plan = plan_model(document, "torch" if target == "torch" else "engine")
    program = compile_document(document, validate_for_export(document))
    program.load_state_dict(weights)
    arrays: dict[str, np.ndarray] = {}
    for attribute, node_id in plan.modules.items():
        module = program.modules.get(node_id)
        if module is None or not module.state_dict():
            continue
        try:
            state = module.torch_state_dict() if target == "torch" else module.state_dict()
        except EngineError as error:
            raise GraphError(f"node '{node_id}': {error}", node_id) from None
        arrays.update({f"{attribute}.{key}": np.asarray(v) for key, v in state.items()})
    return arrays


def write_weights(
    document: GraphDocument,
    target: str,
    script: str | os.PathLike[str],
    weights: Mapping[str, np.ndarray] | None,
) -> Path | None:
    """Write the trained ``weights`` beside the ``target`` (``"python"`` or ``"torch"``) script
    ``script`` for its ``build_model()``; None (and nothing written) when there are none."""
    if not weights:
        return None
    path = weights_file(script)
    _save(script_weights(document, "torch" if target == "torch" else "python", weights), path)
    return path


def write_export(
    document: GraphDocument,
    target: Target,
    script: str | os.PathLike[str],
    weights: Mapping[str, np.ndarray] | None = None,
    title: str | None = None,
    train: bool = True,
) -> list[Path]:
    """Write the script to ``script`` (data files the graph names relative to its folder are
    read relative to the script) and the trained weights beside it; return the files written
    (:func:`save_export` also gives the notice).

    Raises
    ------
    GraphError
        When the graph cannot be exported or the weights do not fit it.
    OSError
        When a file cannot be written.
    """
    return list(save_export(document, target, script, weights, title, train).paths)


def save_export(
    document: GraphDocument,
    target: Target,
    script: str | os.PathLike[str],
    weights: Mapping[str, np.ndarray] | None = None,
    title: str | None = None,
    train: bool = True,
) -> ExportedScript:
    """:func:`write_export`, returning the script, its notice and the files written."""
    path = Path(script)
    name = path.stem if title is None else title
    exported = export_script(document, target, name, path.resolve().parent, train)
    arrays = script_weights(document, target, weights) if weights else None
    path.write_text(exported.code, encoding="utf-8")
    if arrays is None:
        weights_file(path).unlink(missing_ok=True)  # an earlier export's weights would not fit
        return dataclasses.replace(exported, paths=(path,))
    _save(arrays, weights_file(path))
    return dataclasses.replace(exported, paths=(path, weights_file(path)))


def _save(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    """``np.savez`` of named arrays (no pickles)."""
    named: dict[str, Any] = dict(arrays)  # Any: np.savez types **kwds as if one were allow_pickle
    with open(path, "wb") as handle:
        np.savez(handle, **named)
