"""The node types blocks are built of: a block's input and output ports, and the block itself.

A block node's ports and parameters come from its definition
(:class:`~app.graph.blocks.BlockDefinition`); the spec declared here is what the registry
knows of every block (its ``repeat`` parameter) and is only used where no definition is at hand.
These types are structural: the palette's layer sections and :func:`all_specs` leave them out.
"""

from __future__ import annotations

from app.graph.specs.base import Category, NodeSpec, ParamSpec, ParamType, PortKind, PortSpec, Role
from app.graph.specs.registry import register_structural

BLOCK_INPUT = "block_input"
BLOCK_OUTPUT = "block_output"
BLOCK = "block"

REPEAT = ParamSpec(
    "repeat",
    ParamType.INT,
    1,
    minimum=1,
    maximum=64,
    help="how many times the block runs in a chain, each time with its own weights "
    "(needs one input and one output of the same shape)",
)

register_structural(
    NodeSpec(
        BLOCK_INPUT,
        "Block input",
        Category.BLOCKS,
        "An input of the block: what the outside wires into this port of the block node.",
        Role.OP,
        infer=lambda p, s: {},
        outputs=(PortSpec("y", PortKind.ANY, help="the value wired into the block"),),
    )
)
register_structural(
    NodeSpec(
        BLOCK_OUTPUT,
        "Block output",
        Category.BLOCKS,
        "An output of the block: what this port of the block node gives the outside.",
        Role.OP,
        infer=lambda p, s: {},
        inputs=(PortSpec("x", PortKind.ANY, help="the value the block gives out"),),
    )
)
register_structural(
    NodeSpec(
        BLOCK,
        "Block",
        Category.BLOCKS,
        "A group of nodes used as one node; double-click to open it.",
        Role.LAYER,
        infer=lambda p, s: {},
        params=(REPEAT,),
    )
)
