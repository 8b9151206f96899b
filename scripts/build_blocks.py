"""Build the built-in blocks through the document API and write ``resources/blocks/*``.

Run ``python scripts/build_blocks.py`` from the repository root to (re)write the files;
``tests/graph/test_blocks_library.py`` checks the committed files match these builders.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import BlockDefinition, ExposedParam
from app.graph.blocks.library import BUILTIN_FOLDER, SUFFIX, block_file_data
from app.graph.document import GraphDocument

COLUMN = 260.0
Item = tuple[str, str, dict[str, Any], tuple[float, float]]
Wire = tuple[str, str, str, str]


def build(
    name: str, items: list[Item], wires: list[Wire], exposed: list[tuple[str, str, str]]
) -> GraphDocument:
    """A document holding one block ``name``: ``items`` ``(id, type, params, (col, row))``,
    wires ``(src, port, dst, port)`` and exposed ``(name, node, param)``."""
    doc = GraphDocument()
    body = GraphDocument(doc.blocks, owner=name)
    for node_id, type_id, params, (col, row) in items:
        body.add_node(type_id, params, position=(col * COLUMN, row * 150.0), node_id=node_id)
    for wire in wires:
        body.connect(*wire)
    block = BlockDefinition(name, body, tuple(ExposedParam(*e) for e in exposed))
    doc.apply(bm.AddBlock(block))
    return doc


def residual() -> GraphDocument:
    """Two 3×3 convolutions with batch norm, the input added back, then ReLU (a ResNet block)."""
    conv = {"out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1}
    return build(
        "residual",
        [
            ("x", "block_input", {}, (0, 0)),
            ("conv1", "conv2d", conv, (1, -1)),
            ("bn1", "batch_norm2d", {}, (2, -1)),
            ("relu1", "relu", {}, (3, -1)),
            ("conv2", "conv2d", conv, (4, -1)),
            ("bn2", "batch_norm2d", {}, (5, -1)),
            ("skip", "add", {}, (6, 0)),
            ("relu", "relu", {}, (7, 0)),
            ("y", "block_output", {}, (8, 0)),
        ],
        [
            ("x", "y", "conv1", "x"),
            ("conv1", "y", "bn1", "x"),
            ("bn1", "y", "relu1", "x"),
            ("relu1", "y", "conv2", "x"),
            ("conv2", "y", "bn2", "x"),
            ("bn2", "y", "skip", "a"),
            ("x", "y", "skip", "b"),
            ("skip", "y", "relu", "x"),
            ("relu", "y", "y", "x"),
        ],
        [("channels", "conv2", "out_channels"), ("width", "conv1", "out_channels")],
    )


def transformer() -> GraphDocument:
    """A pre-norm transformer layer: attention and an MLP, each with a residual add."""
    return build(
        "transformer",
        [
            ("x", "block_input", {}, (0, 0)),
            ("norm1", "layer_norm", {}, (1, -1)),
            ("attention", "multihead_attention", {"heads": 4, "causal": False}, (2, -1)),
            ("add1", "add", {}, (3, 0)),
            ("norm2", "layer_norm", {}, (4, -1)),
            ("fc1", "linear", {"units": 128}, (5, -1)),
            ("gelu", "gelu", {}, (6, -1)),
            ("fc2", "linear", {"units": 32}, (7, -1)),
            ("add2", "add", {}, (8, 0)),
            ("y", "block_output", {}, (9, 0)),
        ],
        [
            ("x", "y", "norm1", "x"),
            ("norm1", "y", "attention", "x"),
            ("attention", "y", "add1", "a"),
            ("x", "y", "add1", "b"),
            ("add1", "y", "norm2", "x"),
            ("norm2", "y", "fc1", "x"),
            ("fc1", "y", "gelu", "x"),
            ("gelu", "y", "fc2", "x"),
            ("fc2", "y", "add2", "a"),
            ("add1", "y", "add2", "b"),
            ("add2", "y", "y", "x"),
        ],
        [
            ("d_model", "fc2", "units"),
            ("heads", "attention", "heads"),
            ("causal", "attention", "causal"),
            ("width", "fc1", "units"),
        ],
    )


def mlp_head() -> GraphDocument:
    """Linear, ReLU, Linear: a classifier head on features."""
    return build(
        "mlp_head",
        [
            ("x", "block_input", {}, (0, 0)),
            ("hidden", "linear", {"units": 64}, (1, 0)),
            ("relu", "relu", {}, (2, 0)),
            ("logits", "linear", {"units": 10}, (3, 0)),
            ("y", "block_output", {}, (4, 0)),
        ],
        [
            ("x", "y", "hidden", "x"),
            ("hidden", "y", "relu", "x"),
            ("relu", "y", "logits", "x"),
            ("logits", "y", "y", "x"),
        ],
        [("units", "hidden", "units"), ("classes", "logits", "units")],
    )


BUILTIN: dict[str, tuple[Callable[[], GraphDocument], str]] = {
    "residual": (
        residual,
        "Two 3×3 convolutions with BatchNorm2d and ReLU, the input added back (ResNet). "
        "channels must equal the input's channels.",
    ),
    "transformer": (
        transformer,
        "Pre-norm transformer layer: LayerNorm, attention, add; LayerNorm, Linear, GELU, "
        "Linear, add. d_model must equal the input's features.",
    ),
    "mlp_head": (mlp_head, "Linear, ReLU, Linear: a classifier head with units hidden units."),
}


def builtin_data(name: str) -> dict[str, Any]:
    """The file data of built-in block ``name``."""
    make, description = BUILTIN[name]
    return block_file_data(make(), name, description)


def text_of(name: str) -> str:
    """The file text of built-in block ``name``."""
    return json.dumps(builtin_data(name), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write every built-in block file."""
    BUILTIN_FOLDER.mkdir(parents=True, exist_ok=True)
    for name in BUILTIN:
        (BUILTIN_FOLDER / f"{name}{SUFFIX}").write_text(text_of(name), encoding="utf-8")


if __name__ == "__main__":
    main()
