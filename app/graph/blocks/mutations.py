"""The reversible edits of blocks, applied like every mutation by ``GraphDocument.apply``.

Block edits are applied to the top-level document (the one a file holds), which finds the
instances of a block wherever they are: in the graph and inside other blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.graph.blocks.definition import BlockDefinition, ExposedParam
from app.graph.mutations import Mutation, Nodes

InstanceKey = tuple[str, str]
"""Where a block node is: the block it sits in (``""`` for the graph) and its id."""


@dataclass(frozen=True)
class AddBlock(Mutation):
    """Add the definition ``block`` (its name must be free), at position ``index`` of the
    document's block order when given (the inverse of :class:`RemoveBlock` puts it back)."""

    block: BlockDefinition
    index: int | None = None

    def describe(self, nodes: Nodes = None) -> str:
        """``Add block 'residual'``."""
        return f"Add block '{self.block.name}'"


@dataclass(frozen=True)
class RemoveBlock(Mutation):
    """Remove the definition ``name`` (refused while a node uses it)."""

    name: str

    def describe(self, nodes: Nodes = None) -> str:
        """``Remove block 'residual'``."""
        return f"Remove block '{self.name}'"


@dataclass(frozen=True)
class EditBlock(Mutation):
    """Apply ``mutation`` inside the definition ``name`` (every instance changes).

    Wires outside that ended on a port the edit removes are removed with it (the inverse puts
    them back).
    """

    name: str
    mutation: Mutation

    def describe(self, nodes: Nodes = None) -> str:
        """The inner edit's text and the block: ``Add Linear in 'residual'``."""
        return f"{self.mutation.describe()} in '{self.name}'"


@dataclass(frozen=True)
class SetExposed(Mutation):
    """Make ``exposed`` the parameters block ``name`` shows on its instances.

    An instance keeps the value it has for a parameter that stays exposed; a newly exposed one
    starts at the inner node's value, or at ``values[(block, node id)][name]`` when given (the
    inverse uses that to give back what it took).
    """

    name: str
    exposed: tuple[ExposedParam, ...]
    values: Mapping[InstanceKey, Mapping[str, Any]] = field(default_factory=dict)

    def describe(self, nodes: Nodes = None) -> str:
        """``Set the parameters of block 'residual'``."""
        return f"Set the parameters of block '{self.name}'"


@dataclass(frozen=True)
class UseBlock(Mutation):
    """Make block node ``node_id`` (in the graph) an instance of definition ``name``.

    The definition must have the same ports ("Make unique" gives an instance a copy).
    """

    node_id: str
    name: str

    def describe(self, nodes: Nodes = None) -> str:
        """``Use block 'residual_2' for 'res1'``."""
        return f"Use block '{self.name}' for '{self.node_id}'"


@dataclass(frozen=True)
class RenameBlock(Mutation):
    """Rename the definition ``name`` to ``new_name`` (its instances follow)."""

    name: str
    new_name: str

    def describe(self, nodes: Nodes = None) -> str:
        """``Rename block 'block' to 'residual'``."""
        return f"Rename block '{self.name}' to '{self.new_name}'"
