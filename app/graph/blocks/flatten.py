"""The plain graph of a document with blocks: every block node replaced by its inside.

Validation, compilation, training, stepping and the exports run the flat graph, so a grouped
graph trains exactly as the same graph drawn without blocks. A node inside block node ``res1``
gets the id ``res1__conv``; the k-th repetition (k >= 2) of a repeated block ``res1_r2__conv``;
nested blocks join their ids the same way. :class:`FlatGraph` maps every flat id back to where
it was drawn (:attr:`FlatGraph.origin`), and says where each block output comes from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.mutations import Edge, Node, wire_problem
from app.graph.shapes import Diagnostic, Severity
from app.graph.specs.blocks import BLOCK_INPUT, BLOCK_OUTPUT

SEPARATOR = "__"
"""Joins the ids of a block node and a node inside it into a flat id."""

Path = tuple[str, ...]
"""Where a node was drawn: the block nodes it sits in, outermost first, then its own id; a
repetition k >= 2 of a block node ``res1`` appears as ``res1_r2``."""


@dataclass
class FlatGraph:
    """A document without block nodes, and where each of its nodes came from.

    Attributes
    ----------
    document
        The flat graph (the document itself when it has no block nodes).
    origin
        Flat id -> :data:`Path` (a plain node's path is its id alone).
    outputs
        ``(flat id of a block node, output port)`` -> the flat ``(id, port)`` that gives it,
        for block nodes at every depth (a block node's flat id is its path joined as a node's).
    inputs
        ``(flat id of a block node, input port)`` -> the flat ``(id, port)`` wired into it.
    repeats
        Flat id of a block node -> how many times it runs.
    instances
        Flat id of a block node's repetition (``res1``, ``res1_r2``) -> the block node's.
    problems
        Errors flattening found, on the outermost block node (e.g. a repeat that cannot chain).
    tops
        Flat id -> the node of the document's own graph it was drawn in (or is).
    refused
        The flat ``(id, input port)`` ends of wires that meet an unfit port once the blocks
        are opened (each is one of :attr:`problems`, so the port is not also "not connected").
    """

    document: GraphDocument
    origin: dict[str, Path] = field(default_factory=dict)
    outputs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    inputs: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    tops: dict[str, str] = field(default_factory=dict)
    refused: set[tuple[str, str]] = field(default_factory=set)

    def top(self, flat_id: str) -> str:
        """The node of the document's own graph that ``flat_id`` was drawn in (or is)."""
        return self.tops.get(flat_id, flat_id)

    def enclosing(self, flat_id: str) -> list[str]:
        """The flat ids of the block nodes ``flat_id`` sits in, outermost first."""
        path = self.origin.get(flat_id, ())
        found = []
        for i in range(1, len(path)):
            step = SEPARATOR.join(path[:i])
            found.append(self.instances.get(step, step))
        return found


def flat_id(path: Path) -> str:
    """The flat id of a node drawn at ``path``."""
    return SEPARATOR.join(path)


def repetition_step(node_id: str, k: int) -> str:
    """The path step of repetition ``k`` (1-based) of block node ``node_id``."""
    return node_id if k == 1 else f"{node_id}_r{k}"


#: The most nodes a graph may have once its blocks are opened up: a small file of nested,
#: repeated blocks could otherwise ask for billions (validation of 50,000 takes seconds).
MAX_FLAT_NODES = 50_000


class FlatTooLargeError(GraphError):
    """Opening up the blocks would give more than :data:`MAX_FLAT_NODES` nodes; ``node_id``
    is the top-level block node that holds the most of them."""


def flatten(doc: GraphDocument) -> FlatGraph:
    """The flat graph of ``doc`` (``doc`` itself, not a copy, when it has no block nodes).

    Raises
    ------
    FlatTooLargeError
        When the flat graph would have more than :data:`MAX_FLAT_NODES` nodes.
    """
    if not any(n.block is not None for n in doc.nodes.values()):
        ids = list(doc.nodes)
        return FlatGraph(doc, {i: (i,) for i in ids}, tops={i: i for i in ids})
    _check_flat_size(doc)
    builder = _Builder(doc)
    builder.expand(doc, (), {})
    return builder.finish()


def _check_flat_size(doc: GraphDocument) -> None:
    """Count the flat nodes (each definition once) and refuse a graph with too many."""
    sizes: dict[int, int] = {}

    def node_size(node: Node) -> int:
        block = node.block
        if block is None:
            return 1
        if id(block) not in sizes:
            total = 0
            for inner in block.body.nodes.values():
                total += node_size(inner)
                if total > MAX_FLAT_NODES:
                    break  # enough to refuse
            sizes[id(block)] = total
        return _repeat(node) * sizes[id(block)]

    per_node = {n.id: node_size(n) for n in doc.nodes.values()}
    if sum(per_node.values()) > MAX_FLAT_NODES:
        biggest = max(per_node, key=per_node.__getitem__)
        raise FlatTooLargeError(
            f"Opening up the blocks would give more than {MAX_FLAT_NODES:,} nodes "
            f"({doc.nodes[biggest].display_name} alone holds {per_node[biggest]:,}); "
            "lower a Repeat or nest fewer blocks",
            biggest,
        )


def _repeat(node: Node) -> int:
    try:
        return max(1, int(node.params.get("repeat", 1)))
    except (TypeError, ValueError):
        return 1


class _Builder:
    """Collects the flat nodes and raw wires, then splices the port nodes out."""

    def __init__(self, doc: GraphDocument) -> None:
        self.doc = doc
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.ports: set[str] = set()  # flat ids of port nodes, removed by finish()
        self.result = FlatGraph(doc)
        self.tops: dict[str, str] = {}  # flat id -> the top-level node it was drawn in

    def expand(
        self, graph: GraphDocument, prefix: Path, overrides: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Add ``graph``'s nodes under ``prefix``; ``overrides[node id]`` replaces parameters
        (an instance's exposed values)."""
        effective = {
            node.id: {**node.params, **overrides.get(node.id, {})} for node in graph.nodes.values()
        }
        for node in graph.nodes.values():
            params = effective[node.id]
            if node.block is None:
                path = (*prefix, node.id)
                fid = flat_id(path)
                if fid in self.result.origin:
                    self._problem(
                        prefix,
                        node,
                        f"Two nodes would both be called {fid!r} once "
                        "blocks are opened up: rename one",
                    )
                    continue
                self.result.origin[fid] = path
                self.tops[fid] = (
                    self.result.instances.get(prefix[0], prefix[0]) if prefix else node.id
                )
                if node.type_id in (BLOCK_INPUT, BLOCK_OUTPUT):
                    self.ports.add(fid)
                self.nodes.append(dataclasses.replace(node, id=fid, params=params))
            else:
                self._expand_block(node, params, prefix)
        for e in graph.edges:
            src = self._source(graph, prefix, e.src, e.src_port, effective[e.src])
            dst = self._target(graph, prefix, e.dst, e.dst_port)
            self.edges.append(Edge(src[0], src[1], dst[0], dst[1]))

    def _expand_block(self, node: Node, params: Mapping[str, Any], prefix: Path) -> None:
        block = node.block
        assert block is not None
        inner: dict[str, dict[str, Any]] = {}
        for e in block.exposed:
            inner.setdefault(e.node_id, {})[e.param] = params.get(e.name)
        repeat = int(params.get("repeat", 1))
        ins, outs = block.input_nodes(), block.output_nodes()
        if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
            self._problem(
                prefix,
                node,
                f"Block {node.ref} repeats {repeat} times but has {len(ins)} inputs and "
                f"{len(outs)} outputs; repeat needs one input and one output (set Repeat to 1)",
            )
            repeat = 1
        me = flat_id((*prefix, node.id))
        self.result.repeats[me] = repeat
        for k in range(1, repeat + 1):
            step = (*prefix, repetition_step(node.id, k))
            self.result.instances[flat_id(step)] = me
            self.expand(block.body, step, inner)
            if k > 1:
                before = flat_id((*prefix, repetition_step(node.id, k - 1), outs[0].id))
                self.edges.append(Edge(before, "y", flat_id((*step, ins[0].id)), "x"))
        for port in ins:
            self.result.inputs[(me, port.id)] = (flat_id((*prefix, node.id, port.id)), "y")
        last = (*prefix, repetition_step(node.id, repeat))
        for port in outs:
            self.result.outputs[(flat_id((*prefix, node.id)), port.id)] = (
                flat_id((*last, port.id)),
                "y",
            )

    def _source(
        self, graph: GraphDocument, prefix: Path, node_id: str, port: str, params: Mapping[str, Any]
    ) -> tuple[str, str]:
        node = graph.nodes[node_id]
        if node.block is None:
            return flat_id((*prefix, node_id)), port
        repeat = int(params.get("repeat", 1)) if self._chains(node) else 1
        return flat_id((*prefix, repetition_step(node_id, repeat), port)), "y"

    def _target(
        self, graph: GraphDocument, prefix: Path, node_id: str, port: str
    ) -> tuple[str, str]:
        node = graph.nodes[node_id]
        if node.block is None:
            return flat_id((*prefix, node_id)), port
        return flat_id((*prefix, node_id, port)), "x"

    def _chains(self, node: Node) -> bool:
        block = node.block
        return block is not None and len(block.input_nodes()) == len(block.output_nodes()) == 1

    def _problem(self, prefix: Path, node: Node, message: str) -> None:
        top = prefix[0] if prefix else node.id
        self.result.problems.append(Diagnostic(Severity.ERROR, message, top))

    def _readable(self, message: str, flat_ids: tuple[str, ...]) -> str:
        """``message`` with each flat id in quotes told as its path (``'b_1 › dense1'``)."""
        for fid in flat_ids:
            path = self.result.origin.get(fid)
            if path is not None and len(path) > 1:
                message = message.replace(f"'{fid}'", "'" + " › ".join(path) + "'")
        return message

    def finish(self) -> FlatGraph:
        """Splice out the port nodes and build the flat document."""
        feeds: dict[str, tuple[str, str]] = {}
        for e in self.edges:
            if e.dst in self.ports:
                feeds[e.dst] = (e.src, e.src_port)

        def resolve(end: tuple[str, str]) -> tuple[str, str] | None:
            seen = 0
            while end[0] in self.ports:
                if end[0] not in feeds or seen > len(self.ports):
                    return None
                end, seen = feeds[end[0]], seen + 1
            return end

        nodes = [n for n in self.nodes if n.id not in self.ports]
        by_id = {n.id: n for n in nodes}
        edges: list[Edge] = []
        for e in self.edges:
            if e.dst in self.ports:
                continue
            src = resolve((e.src, e.src_port))
            if src is None:
                continue  # fed by a block input nothing is wired to: the input stays open
            edge = Edge(src[0], src[1], e.dst, e.dst_port)
            problem = wire_problem(by_id, edge)
            if problem is not None:
                top = self.tops.get(e.dst, e.dst)
                message = self._readable(problem[1].message, (edge.src, edge.dst))
                port = edge.dst_port if top == edge.dst else None
                self.result.problems.append(Diagnostic(Severity.ERROR, message, top, port))
                self.result.refused.add((edge.dst, edge.dst_port))
                continue
            edges.append(edge)
        for table in (self.result.outputs, self.result.inputs):
            resolved = {key: resolve(src) for key, src in table.items()}
            table.clear()
            table.update({key: end for key, end in resolved.items() if end is not None})
        doc = GraphDocument.from_parts(nodes, edges, self.doc.training)
        doc.base_dir = self.doc.base_dir
        for node_id in by_id:
            self.result.origin.setdefault(node_id, (node_id,))
        self.result.origin = {k: v for k, v in self.result.origin.items() if k in by_id}
        self.result.document = doc
        self.result.tops = {k: v for k, v in self.tops.items() if k in by_id}
        return self.result
