"""Blocks: parts of a graph folded into one node, defined once and used by many nodes.

:mod:`~app.graph.blocks.definition` holds what a block is, :mod:`~app.graph.blocks.mutations`
its undoable edits, :mod:`~app.graph.blocks.grouping` the edits people make (group, ungroup,
make unique), :mod:`~app.graph.blocks.flatten` the plain graph everything else runs and
:mod:`~app.graph.blocks.files` how blocks are written in ``.nodegrad`` files.
"""

from app.graph.blocks.definition import BlockDefinition, BlockTable, ExposedParam

__all__ = ["BlockDefinition", "BlockTable", "ExposedParam"]
