"""``nodegrad export FILE --to onnx`` and ``nodegrad import MODEL.onnx``: the ONNX commands.

Registered in :mod:`app.cli`; they print one line saying what was written, and every failure
becomes the one-line error :func:`app.cli.main` prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli_paths import check_output


def cmd_export_onnx(options: argparse.Namespace) -> int:
    """Write the graph's inference part to ``-o`` (default: the graph's name with ``.onnx``).

    The trained weights saved beside the graph are used when there are some.
    """
    from app.graph import io
    from app.graph.onnx import export_onnx, save_onnx

    document = io.load(options.file)
    weights_file = io.find_weights(options.file)  # the .safetensors, else a legacy .npz
    weights = io.load_weights(weights_file) if weights_file is not None else None
    output: Path = options.output or options.file.with_suffix(".onnx")
    check_output(output, options.file)
    save_onnx(export_onnx(document, weights), output)
    origin = f"trained weights from {weights_file.name}" if weights_file else "untrained weights"
    print(f"wrote {output} ({origin})", file=sys.stderr)
    return 0


def add_import_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``nodegrad import MODEL.onnx [-o GRAPH.nodegrad]``."""
    command = sub.add_parser("import", help="turn an ONNX model into a graph with its weights")
    command.add_argument("file", type=Path, help="an .onnx file")
    command.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="default: MODEL.nodegrad",
    )


def cmd_import(options: argparse.Namespace) -> int:
    """Import the model, then write the graph and its weights beside it (both or neither)."""
    from app.graph.onnx import import_onnx, save_imported

    output: Path = options.output or options.file.with_suffix(".nodegrad")
    check_output(output, options.file)
    document, weights = import_onnx(options.file)
    weights_file = save_imported(document, weights, output)
    print(
        f"wrote {output} ({len(document.nodes)} nodes) and {weights_file}; add a Dataset "
        "and a loss to train it further",
        file=sys.stderr,
    )
    return 0
