"""How a document performs the block mutations (registered by ``GraphDocument.__init__``).

Each handler takes the top-level document and the mutation, changes the document (telling its
listeners) and returns the inverse mutation, as the document's own handlers do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import BlockDefinition, graphs_of, instances_of
from app.graph.errors import GraphError
from app.graph.specs import get_spec
from app.graph.specs.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT

if TYPE_CHECKING:
    from app.graph.document import GraphDocument
    from app.graph.mutations import Node


def block_handlers(doc: GraphDocument) -> dict[type, Callable[[Any], mu.Mutation]]:
    """The handlers of the block mutations, bound to ``doc``."""
    return {
        bm.AddBlock: lambda m: _add_block(doc, m),
        bm.RemoveBlock: lambda m: _remove_block(doc, m),
        bm.EditBlock: lambda m: _edit_block(doc, m),
        bm.SetExposed: lambda m: _set_exposed(doc, m),
        bm.UseBlock: lambda m: _use_block(doc, m),
        bm.RenameBlock: lambda m: _rename_block(doc, m),
    }


def link_block(doc: GraphDocument, node: Node) -> Node:
    """``node`` as ``doc`` may hold it: a block node with ``doc``'s definition of its block's
    name, any other node without a block.

    Raises
    ------
    GraphError
        For port nodes outside a block, a block ``doc`` lacks, or a block inside itself.
    """
    if node.type_id in (BLOCK_INPUT, BLOCK_OUTPUT) and doc.owner is None:
        raise GraphError("Block inputs and outputs go inside a block", node.id)
    if node.type_id != BLOCK:
        get_spec(node.type_id)
        return dataclasses.replace(node, block=None) if node.block is not None else node
    if node.block is None or node.block.name not in doc.blocks:
        name = node.block.name if node.block is not None else "?"
        raise GraphError(f"There is no block '{name}' for {node.id!r}", node.id)
    block = doc.blocks[node.block.name]
    if doc.owner is not None and block.contains(doc.owner):
        raise GraphError(
            f"Block '{doc.owner}' cannot contain itself (through '{block.name}')", node.id
        )
    return dataclasses.replace(node, block=block)


def _top(doc: GraphDocument) -> None:
    if doc.owner is not None:
        raise GraphError(f"Block edits are made on the whole graph, not inside block '{doc.owner}'")


def _block(doc: GraphDocument, name: str) -> BlockDefinition:
    block = doc.blocks.get(name)
    if block is None:
        raise GraphError(f"There is no block '{name}'")
    return block


def _changed(doc: GraphDocument, name: str) -> None:
    """Tell every document holding an instance of ``name`` that it changed, then the graph."""
    for d, node_id in instances_of(doc, name):
        d.node_changed(node_id, "block")
    doc.blocks_changed(name)


def _add_block(doc: GraphDocument, m: bm.AddBlock) -> mu.Mutation:
    _top(doc)
    name = m.block.name
    if not name.isidentifier():
        raise GraphError(f"A block name must be an identifier like 'residual', got {name!r}")
    if name in doc.blocks:
        raise GraphError(f"There is already a block '{name}'")
    if m.block.body.blocks is not doc.blocks:
        raise GraphError(f"Block '{name}' belongs to another document")
    items = list(doc.blocks.items())
    at = len(items) if m.index is None else max(0, min(m.index, len(items)))
    items.insert(at, (name, m.block))
    doc.blocks.clear()
    doc.blocks.update(items)
    doc.blocks_changed(name)
    return bm.RemoveBlock(name)


def _remove_block(doc: GraphDocument, m: bm.RemoveBlock) -> mu.Mutation:
    _top(doc)
    block = _block(doc, m.name)
    users = instances_of(doc, m.name)
    if users:
        raise GraphError(
            f"Block '{m.name}' is used by {len(users)} node{'s' if len(users) > 1 else ''}; "
            "delete or ungroup them first"
        )
    index = list(doc.blocks).index(m.name)
    del doc.blocks[m.name]
    doc.blocks_changed(m.name)
    return bm.AddBlock(block, index)


def _edit_block(doc: GraphDocument, m: bm.EditBlock) -> mu.Mutation:
    _top(doc)
    block = _block(doc, m.name)
    ports_before = {n.id for n in block.input_nodes()}, {n.id for n in block.output_nodes()}
    inverse = block.body.apply(m.mutation)
    lost_in = ports_before[0] - {n.id for n in block.input_nodes()}
    lost_out = ports_before[1] - {n.id for n in block.output_nodes()}
    restore: list[mu.Mutation] = []
    if lost_in or lost_out:
        for d in graphs_of(doc):
            for e in d.edges:
                into = _uses(d, e.dst, m.name) and e.dst_port in lost_in
                out_of = _uses(d, e.src, m.name) and e.src_port in lost_out
                if into or out_of:
                    d.remove_wire(e)
                    wire = mu.Connect(e.src, e.src_port, e.dst, e.dst_port)
                    restore.append(wire if d.owner is None else bm.EditBlock(d.owner, wire))
    _changed(doc, m.name)
    undo: mu.Mutation = bm.EditBlock(m.name, inverse)
    kept = tuple(e for e in block.exposed if block.exposed_problem((e,)) is None)
    if kept != block.exposed:
        # The edit removed a node whose parameter was on the block: the parameter goes with
        # it, and undo brings it back with each instance's value.
        restore.insert(0, _set_exposed(doc, bm.SetExposed(m.name, kept)))
    return mu.Batch((undo, *restore), undo.describe()) if restore else undo


def _uses(d: GraphDocument, node_id: str, name: str) -> bool:
    block = d.nodes[node_id].block
    return block is not None and block.name == name


def _set_exposed(doc: GraphDocument, m: bm.SetExposed) -> mu.Mutation:
    _top(doc)
    block = _block(doc, m.name)
    problem = block.exposed_problem(m.exposed)
    if problem is not None:
        raise GraphError(problem)
    old_exposed = block.exposed
    kept: dict[bm.InstanceKey, dict[str, Any]] = {}
    instances = instances_of(doc, m.name)
    for d, node_id in instances:
        kept[(d.owner or "", node_id)] = dict(d.nodes[node_id].params)
    block.exposed = m.exposed
    names = {p.name for p in block.spec.params}
    try:
        replaced = []
        for d, node_id in instances:
            node = d.nodes[node_id]
            given = {**m.values.get((d.owner or "", node_id), {}), **node.params}
            params = block.instance_params({k: v for k, v in given.items() if k in names})
            replaced.append((d, dataclasses.replace(node, params=params)))
    except GraphError:
        block.exposed = old_exposed
        raise
    for d, node in replaced:
        d.replace_node(node)
    _changed(doc, m.name)
    return bm.SetExposed(m.name, old_exposed, kept)


def _use_block(doc: GraphDocument, m: bm.UseBlock) -> mu.Mutation:
    _top(doc)
    node = doc.node(m.node_id)
    block = _block(doc, m.name)
    if node.block is None:
        raise GraphError(f"{node.display_name} is not a block", m.node_id)
    if node.block.spec.inputs != block.spec.inputs or node.block.spec.outputs != block.spec.outputs:
        raise GraphError(f"Block '{m.name}' has other ports than '{node.block.name}'", m.node_id)
    params = block.instance_params({k: v for k, v in node.params.items()})
    doc.replace_node(dataclasses.replace(node, block=block, params=params))
    doc.node_changed(m.node_id, "block")
    doc.blocks_changed(m.name)
    return bm.UseBlock(m.node_id, node.block.name)


def _rename_block(doc: GraphDocument, m: bm.RenameBlock) -> mu.Mutation:
    _top(doc)
    block = _block(doc, m.name)
    if not m.new_name.isidentifier():
        raise GraphError(f"A block name must be an identifier like 'residual', got {m.new_name!r}")
    if m.new_name in doc.blocks:
        raise GraphError(f"There is already a block '{m.new_name}'")
    renamed = {m.new_name if k == m.name else k: v for k, v in doc.blocks.items()}
    doc.blocks.clear()
    doc.blocks.update(renamed)
    block.name = m.new_name
    block.body.owner = m.new_name
    _changed(doc, m.new_name)
    return bm.RenameBlock(m.new_name, m.name)
