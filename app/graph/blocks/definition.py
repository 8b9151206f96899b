"""Block definitions: a named graph with port nodes, used by block nodes (its instances).

A :class:`BlockDefinition` holds its inside as a :class:`~app.graph.document.GraphDocument`
(``body``) whose ``block_input`` and ``block_output`` nodes are the block's ports: a port's
name is the port node's id (stable, so wires outside survive a rename) and its caption the port
node's label. Every instance (a node of type ``block`` whose ``Node.block`` is the definition)
shares the body, so an edit inside changes every instance; each instance has its own
parameters (``repeat`` and the exposed ones) and, once compiled, its own weights.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.graph.errors import GraphError
from app.graph.specs import Category, NodeSpec, ParamSpec, PortKind, PortSpec, Role, get_spec
from app.graph.specs.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT, REPEAT

if TYPE_CHECKING:
    from app.graph.document import GraphDocument
    from app.graph.mutations import Node


class BlockTable(dict[str, "BlockDefinition"]):
    """A document's block definitions by name, shared with every block body of the document.

    ``revision`` counts the edits made inside any block, so instance specs know when to be
    rebuilt.
    """

    revision: int = 0


@dataclass(frozen=True)
class ExposedParam:
    """An inner parameter shown on the block: ``node_id.param`` edited as ``name``."""

    name: str
    node_id: str
    param: str


class BlockDefinition:
    """One block: its ``name``, its inside (``body``) and its exposed parameters.

    Parameters
    ----------
    name
        Unique in the document; an identifier (it names a class in exported code).
    body
        The inside, a document that shares the outer document's :class:`BlockTable`.
    exposed
        Inner parameters edited on each instance.
    """

    def __init__(
        self, name: str, body: GraphDocument, exposed: tuple[ExposedParam, ...] = ()
    ) -> None:
        self.name = name
        self.body = body
        self.exposed = tuple(exposed)
        self._spec: tuple[tuple[Any, ...], NodeSpec] | None = None

    def __repr__(self) -> str:
        return f"BlockDefinition({self.name!r}, {len(self.body.nodes)} nodes)"

    # -- ports -----------------------------------------------------------------------------
    def input_nodes(self) -> list[Node]:
        """The ``block_input`` nodes, in body order: the block's inputs."""
        return [n for n in self.body.nodes.values() if n.type_id == BLOCK_INPUT]

    def output_nodes(self) -> list[Node]:
        """The ``block_output`` nodes, in body order: the block's outputs."""
        return [n for n in self.body.nodes.values() if n.type_id == BLOCK_OUTPUT]

    def inner_nodes(self) -> list[Node]:
        """The nodes that are not ports, in body order."""
        return [n for n in self.body.nodes.values() if n.type_id not in (BLOCK_INPUT, BLOCK_OUTPUT)]

    def used_blocks(self) -> list[BlockDefinition]:
        """The definitions of the block nodes inside, each once, in body order."""
        found: dict[str, BlockDefinition] = {}
        for node in self.body.nodes.values():
            if node.block is not None:
                found.setdefault(node.block.name, node.block)
        return list(found.values())

    def contains(self, name: str) -> bool:
        """Whether a block called ``name`` is used inside, at any depth (or is this one)."""
        return any(d.name == name for d in walk_blocks([self]))

    # -- the instance spec -----------------------------------------------------------------
    @property
    def spec(self) -> NodeSpec:
        """The :class:`NodeSpec` of this block's instances (ports and parameters)."""
        key = (self.body.blocks.revision, self.name, self.exposed)
        if self._spec is None or self._spec[0] != key:
            self._spec = (key, self._make_spec())
        return self._spec[1]

    def _make_spec(self) -> NodeSpec:
        # Ports take any kind and the role is always OP: a kind or role that followed the
        # inside would let an edit inside make an outside wire unloadable. Wires into and out
        # of a block are checked once flattened, where each meets the inner port it feeds.
        inputs = tuple(
            PortSpec(n.id, PortKind.ANY, help="a block input", label=n.label)
            for n in self.input_nodes()
        )
        outputs = tuple(
            PortSpec(n.id, PortKind.ANY, help="a block output", label=n.label)
            for n in self.output_nodes()
        )
        base = get_spec(BLOCK)
        return dataclasses.replace(
            base,
            title=self.name,
            help=f"Block '{self.name}': {len(self.inner_nodes())} nodes. Double-click to open it.",
            category=Category.BLOCKS,
            role=Role.OP,
            inputs=inputs,
            outputs=outputs,
            params=(REPEAT, *self._exposed_specs()),
        )

    def _exposed_specs(self) -> list[ParamSpec]:
        specs = []
        for e in self.exposed:
            node = self.body.nodes.get(e.node_id)
            if node is None:
                continue
            inner = node.spec.param(e.param)
            specs.append(
                dataclasses.replace(
                    inner,
                    name=e.name,
                    default=node.params[e.param],
                    when=None,
                    label=inner.caption if e.name == e.param else "",
                    help=exposed_help(node, inner),
                )
            )
        return specs

    # -- checks ----------------------------------------------------------------------------
    def exposed_problem(self, exposed: tuple[ExposedParam, ...]) -> str | None:
        """Why ``exposed`` cannot be this block's exposed parameters (None: it can)."""
        names: dict[str, str] = {}  # as Python reads them (NFKC) -> as written
        targets: dict[tuple[str, str], str] = {}
        for e in exposed:
            if not e.name.isidentifier() or e.name == REPEAT.name:
                return f"'{e.name}' cannot name a block parameter (use letters, digits and _)"
            key = unicodedata.normalize("NFKC", e.name)
            if key in names:
                return f"Block '{self.name}' already has a parameter '{names[key]}'"
            names[key] = e.name
            node = self.body.nodes.get(e.node_id)
            if node is None:
                return f"Block '{self.name}' has no node '{e.node_id}'"
            if e.param not in {p.name for p in node.spec.params}:
                return f"{node.display_name} has no parameter '{e.param}'"
            twice = targets.setdefault((e.node_id, e.param), e.name)
            if twice != e.name:
                return f"{node.display_name}'s '{e.param}' is already the block's '{twice}'"
        return None

    def instance_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` checked against the instance spec (defaults filled in)."""
        return self.spec.coerce_params(params)


def exposed_help(node: Node, inner: ParamSpec) -> str:
    """The help of an exposed parameter: which inner node and parameter it sets (``Sets units
    of 'dense1' inside the block``), then that parameter's own help."""
    text = f"Sets {inner.caption.lower()} of {node.ref} inside the block"
    return f"{text}: {inner.help}" if inner.help else text


def walk_blocks(roots: list[BlockDefinition]) -> Iterator[BlockDefinition]:
    """``roots`` and every definition used inside them, each once, depth first."""
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        block = stack.pop()
        if block.name in seen:
            continue
        seen.add(block.name)
        yield block
        stack.extend(reversed(block.used_blocks()))


def dependency_order(blocks: Mapping[str, BlockDefinition]) -> list[BlockDefinition]:
    """Every definition after the ones it uses (the order a file lists them in).

    Iterative, so any nesting a document holds is ordered without recursion.

    Raises
    ------
    GraphError
        When blocks use each other in a loop (naming them).
    """
    done: dict[str, BlockDefinition] = {}
    for root in blocks.values():
        path: list[str] = []
        stack: list[tuple[BlockDefinition, bool]] = [(root, False)]
        while stack:
            block, leaving = stack.pop()
            if leaving:
                path.pop()
                done.setdefault(block.name, block)
                continue
            if block.name in done:
                continue
            if block.name in path:
                loop = " → ".join([*path[path.index(block.name) :], block.name])
                raise GraphError(f"Blocks contain each other: {loop}")
            path.append(block.name)
            stack.append((block, True))
            stack.extend((used, False) for used in reversed(block.used_blocks()))
    return list(done.values())


def graphs_of(document: GraphDocument) -> list[GraphDocument]:
    """The graph and every block's inside: everywhere a block node may be."""
    return [document, *(b.body for b in document.blocks.values())]


def instances_of(document: GraphDocument, name: str) -> list[tuple[GraphDocument, str]]:
    """Every block node using the definition ``name``: (the graph or block body holding it, its
    id), in the graph first, then inside blocks."""
    return [
        (body, node.id)
        for body in graphs_of(document)
        for node in body.nodes.values()
        if node.block is not None and node.block.name == name
    ]


def instance_count(document: GraphDocument, name: str) -> int:
    """How many block nodes use the definition ``name``, in the graph and inside blocks."""
    return len(instances_of(document, name))


def unique_block_name(taken: Mapping[str, Any] | set[str], stem: str = "block") -> str:
    """``stem`` made an identifier, numbered when taken: ``block``, ``block_2``, …"""
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in stem.strip()) or "block"
    if not base.isidentifier():
        base = f"block_{base}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name
