"""Build the example graphs that use blocks and save them as ``examples/*blocks*.nodegrad``.

Run ``python tests/examples/build_block_examples.py`` from the repository root to (re)write
them; ``test_block_examples.py`` checks the committed files match these builders.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.graph import io
from app.graph.blocks.library import BUILTIN_FOLDER, SUFFIX, insert_block, load_block
from app.graph.document import GraphDocument

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
COLUMN = 260.0


def residual_blocks() -> GraphDocument:
    """The residual CNN with its residual block taken from the built-in library and repeated
    twice (each repetition with its own weights): a stem, two residual blocks, a head."""
    conv = {"out_channels": 32, "kernel_size": 3, "padding": 1}
    doc = GraphDocument()
    nodes: list[tuple[str, str, dict[str, Any], tuple[float, float]]] = [
        ("data", "dataset", {"name": "digits", "images": True}, (0, 0)),
        ("stem", "conv2d", conv, (1, 0)),
        ("stem_bn", "batch_norm2d", {}, (2, 0)),
        ("stem_relu", "relu", {}, (3, 0)),
        ("stem_pool", "max_pool2d", {"kernel_size": 2, "stride": 2}, (4, 0)),
    ]
    tail: list[tuple[str, str, dict[str, Any], tuple[float, float]]] = [
        ("pool", "global_avg_pool2d", {}, (6, 0)),
        ("logits", "linear", {"units": 10}, (7, 0)),
        ("loss", "cross_entropy_loss", {}, (8, 0.6)),
        ("output", "output", {"task": "classification"}, (8, -0.6)),
    ]
    for node_id, type_id, params, (col, row) in nodes:
        doc.add_node(type_id, params, position=(col * COLUMN, row * 150.0), node_id=node_id)
    residual = load_block(BUILTIN_FOLDER / f"residual{SUFFIX}")
    doc.apply(insert_block(doc, residual, (5 * COLUMN, 0.0)))
    for name, value in {"channels": 32, "width": 16, "repeat": 2}.items():
        doc.set_param("residual_1", name, value)
    for node_id, type_id, params, (col, row) in tail:
        doc.add_node(type_id, params, position=(col * COLUMN, row * 150.0), node_id=node_id)
    wires = [
        ("data", "x", "stem", "x"), ("stem", "y", "stem_bn", "x"),
        ("stem_bn", "y", "stem_relu", "x"), ("stem_relu", "y", "stem_pool", "x"),
        ("stem_pool", "y", "residual_1", "x"), ("residual_1", "y", "pool", "x"),
        ("pool", "y", "logits", "x"), ("logits", "y", "loss", "logits"),
        ("data", "y", "loss", "target"), ("logits", "y", "output", "x"),
    ]  # fmt: skip
    for wire in wires:
        doc.connect(*wire)
    settings = {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 10}
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


BLOCK_EXAMPLES: dict[str, Callable[[], GraphDocument]] = {"residual_blocks": residual_blocks}


def main() -> None:
    """Write every block example."""
    for name, build in BLOCK_EXAMPLES.items():
        io.save(build(), EXAMPLES_DIR / f"{name}.nodegrad")


if __name__ == "__main__":
    main()
