"""The block edits people make, each built as one undoable mutation of the top-level document.

:func:`group` folds nodes into a new block, :func:`ungroup` puts a block node's inside back,
:func:`make_unique` gives one block node its own copy of the definition, :func:`expose` and
:func:`hide` choose the parameters a block shows, :func:`copy_block` copies a definition into a
document. ``scope`` names the block whose inside the nodes are in (None: the graph itself).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import (
    BlockDefinition,
    ExposedParam,
    instance_count,
    unique_block_name,
)
from app.graph.blocks.flatten import repetition_step
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.mutations import Edge, Node
from app.graph.specs.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT

PORT_GAP = 260.0
"""How far left (right) of the grouped nodes the block's input (output) nodes are placed."""


def graph_of(doc: GraphDocument, scope: str | None) -> GraphDocument:
    """The graph ``scope`` names: ``doc`` itself (None) or a block's inside."""
    if scope is None:
        return doc
    block = doc.blocks.get(scope)
    if block is None:
        raise GraphError(f"There is no block '{scope}'")
    return block.body


def in_scope(scope: str | None, mutation: mu.Mutation) -> mu.Mutation:
    """``mutation`` as the top-level document applies it to the graph ``scope`` names."""
    return mutation if scope is None else bm.EditBlock(scope, mutation)


def group(
    doc: GraphDocument, node_ids: Iterable[str], scope: str | None = None, name: str = "block"
) -> mu.Mutation:
    """Fold ``node_ids`` into a new block called ``name`` (numbered when taken).

    Each outside output wired into the selection becomes one block input, named after the
    first inner input it feeds; each inner output wired out becomes one block output, named
    after that output. The block node takes the place of the first selected node in the
    document's order, so a grouped graph trains exactly as before.

    Raises
    ------
    GraphError
        Nothing selected, an unknown node, or a block's input or output node selected.
    """
    graph = graph_of(doc, scope)
    chosen = [n for n in graph.nodes if n in set(node_ids)]
    missing = set(node_ids) - set(chosen)
    if missing:
        raise GraphError(f"There is no node {sorted(missing)[0]!r}")
    if not chosen:
        raise GraphError("Select the nodes to group first")
    if any(graph.nodes[n].type_id in (BLOCK_INPUT, BLOCK_OUTPUT) for n in chosen):
        raise GraphError("A block's inputs and outputs stay in their block: leave them out")
    block_name = unique_block_name(doc.blocks, name)
    body = GraphDocument(doc.blocks, owner=block_name)
    picked = set(chosen)
    for node_id in chosen:
        body.replace_node(graph.nodes[node_id])
    inner = [e for e in graph.edges if e.src in picked and e.dst in picked]
    crossing_in = [e for e in graph.edges if e.dst in picked and e.src not in picked]
    crossing_out = [e for e in graph.edges if e.src in picked and e.dst not in picked]
    xs = [graph.nodes[n].position[0] for n in chosen]
    ys = [graph.nodes[n].position[1] for n in chosen]
    mid_y = (min(ys) + max(ys)) / 2
    outer: list[Edge] = []
    wires = list(inner)
    sources: dict[tuple[str, str], str] = {}
    for e in crossing_in:
        key = (e.src, e.src_port)
        if key not in sources:
            sources[key] = _port_id(body, e.dst_port)
            y = mid_y + 80.0 * (len(sources) - 1)
            body.replace_node(Node(sources[key], BLOCK_INPUT, {}, (min(xs) - PORT_GAP, y)))
            outer.append(Edge(e.src, e.src_port, "", sources[key]))
        wires.append(Edge(sources[key], "y", e.dst, e.dst_port))
    sinks: dict[tuple[str, str], str] = {}
    for e in crossing_out:
        key = (e.src, e.src_port)
        if key not in sinks:
            sinks[key] = _port_id(body, e.src_port)
            y = mid_y + 80.0 * (len(sinks) - 1)
            body.replace_node(Node(sinks[key], BLOCK_OUTPUT, {}, (max(xs) + PORT_GAP, y)))
            wires.append(Edge(e.src, e.src_port, sinks[key], "x"))
        outer.append(Edge("", sinks[key], e.dst, e.dst_port))
    body_doc = GraphDocument.from_parts(
        body.nodes.values(), wires, doc.training, doc.blocks, owner=block_name
    )
    block = BlockDefinition(block_name, body_doc)
    instance_id = _free_id(graph, block_name, picked)
    instance = Node(
        instance_id,
        BLOCK,
        block.instance_params({}),
        ((min(xs) + max(xs)) / 2, mid_y),
        block=block,
    )
    edges = tuple(
        Edge(e.src or instance_id, e.src_port, e.dst or instance_id, e.dst_port) for e in outer
    )
    index = list(graph.nodes).index(chosen[0])
    removes = tuple(mu.RemoveNode(n) for n in reversed(chosen))
    fold = mu.Batch((*removes, mu.AddNode(instance, edges, index)), "Group")
    text = f"Group {len(chosen)} nodes into block '{block_name}'"
    return mu.Batch((bm.AddBlock(block), in_scope(scope, fold)), text)


def _port_id(body: GraphDocument, stem: str) -> str:
    name, n = stem, 1
    while name in body.nodes:
        n += 1
        name = f"{stem}_{n}"
    return name


def _free_id(graph: GraphDocument, stem: str, freed: set[str]) -> str:
    n = 1
    while f"{stem}_{n}" in graph.nodes and f"{stem}_{n}" not in freed:
        n += 1
    return f"{stem}_{n}"


def ungroup(doc: GraphDocument, node_id: str, scope: str | None = None) -> mu.Mutation:
    """Put block node ``node_id``'s inside in its place (every repetition), wired as before.

    Exposed parameters keep the node's values. The definition goes too when no other node
    uses it.
    """
    graph = graph_of(doc, scope)
    node = graph.node(node_id)
    block = node.block
    if block is None:
        raise GraphError(f"{node.display_name} is not a block", node_id)
    overrides: dict[str, dict[str, Any]] = {}
    for e in block.exposed:
        overrides.setdefault(e.node_id, {})[e.param] = node.params[e.name]
    repeat = int(node.params["repeat"])
    inside = block.inner_nodes()
    cx = sum(n.position[0] for n in inside) / max(1, len(inside))
    cy = sum(n.position[1] for n in inside) / max(1, len(inside))
    taken = set(graph.nodes) - {node_id}
    names: list[dict[str, str]] = []
    added: list[Node] = []
    for k in range(1, repeat + 1):
        rename = {}
        for n in inside:
            stem = n.id if k == 1 else f"{n.id}_r{k}"
            new_id = _unused(stem, taken)
            taken.add(new_id)
            rename[n.id] = new_id
            shift = (node.position[0] - cx + 260.0 * (k - 1), node.position[1] - cy)
            params = {**n.params, **overrides.get(n.id, {})}
            position = (n.position[0] + shift[0], n.position[1] + shift[1])
            added.append(dataclasses.replace(n, id=new_id, params=params, position=position))
        names.append(rename)
    wires = _ungrouped_wires(graph, node, block, names)
    index = list(graph.nodes).index(node_id)
    steps: list[mu.Mutation] = [mu.RemoveNode(node_id)]
    steps += [mu.AddNode(n, (), index + i) for i, n in enumerate(added)]
    steps += [mu.Connect(e.src, e.src_port, e.dst, e.dst_port) for e in wires]
    text = f"Ungroup block '{block.name}'"
    out: list[mu.Mutation] = [in_scope(scope, mu.Batch(tuple(steps), text))]
    if instance_count(doc, block.name) == 1:
        out.append(bm.RemoveBlock(block.name))
    return mu.Batch(tuple(out), text)


def _unused(stem: str, taken: set[str]) -> str:
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    return name


def _ungrouped_wires(
    graph: GraphDocument, node: Node, block: BlockDefinition, names: list[dict[str, str]]
) -> list[Edge]:
    """The wires of the inside once put back: inner wires per repetition, the outside's wires
    to the first repetition's inputs and from the last one's outputs, repetitions chained."""
    body = block.body
    ports_in = {n.id for n in block.input_nodes()}
    ports_out = {n.id for n in block.output_nodes()}
    feeds = {
        e.dst_port: (e.src, e.src_port) for e in graph.edges if e.dst == node.id
    }  # block input -> outside source
    gives = {e.dst: (e.src, e.src_port) for e in body.edges if e.dst in ports_out}
    wires: list[Edge] = []
    for k, rename in enumerate(names):
        for e in body.edges:
            if e.dst in ports_out:
                continue
            if e.src in ports_in:
                if k == 0:
                    src = feeds.get(e.src)
                else:
                    inner_src = gives.get(next(iter(ports_out), ""))
                    src = None
                    if inner_src is not None and inner_src[0] in names[k - 1]:
                        src = (names[k - 1][inner_src[0]], inner_src[1])
                if src is None:
                    continue
                wires.append(Edge(src[0], src[1], rename[e.dst], e.dst_port))
            else:
                wires.append(Edge(rename[e.src], e.src_port, rename[e.dst], e.dst_port))
    for e in graph.edges:
        if e.src == node.id and e.src_port in gives:
            inner_src = gives[e.src_port]
            if inner_src[0] in ports_in:  # an input wired straight to an output
                outside = feeds.get(inner_src[0])
                if outside is not None:
                    wires.append(Edge(outside[0], outside[1], e.dst, e.dst_port))
                continue
            wires.append(Edge(names[-1][inner_src[0]], inner_src[1], e.dst, e.dst_port))
    return wires


def make_unique(doc: GraphDocument, node_id: str, scope: str | None = None) -> mu.Mutation:
    """Give block node ``node_id`` its own copy of its definition (``residual_2``, …)."""
    node = graph_of(doc, scope).node(node_id)
    if node.block is None:
        raise GraphError(f"{node.display_name} is not a block", node_id)
    copy = copy_block(doc, node.block, unique_block_name(doc.blocks, node.block.name))
    text = f"Make block {node.ref} unique"
    return mu.Batch((bm.AddBlock(copy), in_scope(scope, bm.UseBlock(node_id, copy.name))), text)


def copy_block(doc: GraphDocument, block: BlockDefinition, name: str) -> BlockDefinition:
    """A copy of ``block`` called ``name`` whose inside uses ``doc``'s definitions."""
    body = GraphDocument.from_parts(
        block.body.nodes.values(), block.body.edges, doc.training, doc.blocks, owner=name
    )
    return BlockDefinition(name, body, block.exposed)


def expose(
    doc: GraphDocument, block_name: str, node_id: str, param: str, name: str = ""
) -> mu.Mutation:
    """Show ``node_id.param`` (inside ``block_name``) on the block's nodes as ``name``
    (default: the parameter's own name, numbered when taken)."""
    block = doc.blocks.get(block_name)
    if block is None:
        raise GraphError(f"There is no block '{block_name}'")
    taken = {e.name for e in block.exposed} | {"repeat"}
    chosen = name or _unused(param, taken)
    exposed = (*block.exposed, ExposedParam(chosen, node_id, param))
    return bm.SetExposed(block_name, exposed)


def hide(doc: GraphDocument, block_name: str, name: str) -> mu.Mutation:
    """Stop showing parameter ``name`` on block ``block_name``'s nodes."""
    block = doc.blocks.get(block_name)
    if block is None:
        raise GraphError(f"There is no block '{block_name}'")
    return bm.SetExposed(block_name, tuple(e for e in block.exposed if e.name != name))


def exposed_on(block: BlockDefinition) -> Mapping[tuple[str, str], str]:
    """``(node id, parameter)`` -> the block parameter showing it."""
    return {(e.node_id, e.param): e.name for e in block.exposed}


__all__ = [
    "copy_block",
    "expose",
    "exposed_on",
    "graph_of",
    "group",
    "hide",
    "in_scope",
    "make_unique",
    "repetition_step",
    "ungroup",
]
