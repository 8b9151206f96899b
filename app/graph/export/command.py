"""``nodegrad export FILE --to python|torch [-o OUT] [--no-train]``: the script, and beside it the
graph's trained weights (the weights file saved beside the ``.nodegrad``, when there is one)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.graph import io
from app.graph.export.files import Target, export_script, save_export

if TYPE_CHECKING:
    from app.graph.document import GraphDocument


def graph_weights(graph: Path) -> dict[str, np.ndarray] | None:
    """The trained weights saved beside ``graph`` (None when there is no weights file)."""
    path = io.find_weights(graph)  # the .safetensors, else a legacy .npz
    return dict(io.load_weights(path)) if path is not None else None


def export_command(
    document: GraphDocument, graph: Path, target: Target, output: Path | None, train: bool
) -> int:
    """Write the script to ``output`` with the graph's weights beside it, or print it to stdout
    (no weights file then: say so on stderr); the export's notice (why the blocks were written
    flat) goes to stderr; return the exit status."""
    weights = graph_weights(graph)
    if output is None:
        exported = export_script(document, target, graph.stem, None, train)
        sys.stdout.write(exported.code)
        if weights:
            print("the trained weights are written only with -o OUT", file=sys.stderr)
    else:
        exported = save_export(document, target, output, weights, graph.stem, train)
        for path in exported.paths:
            print(f"wrote {path}", file=sys.stderr)
    if exported.notice:
        print(f"note: {exported.notice}", file=sys.stderr)
    return 0
