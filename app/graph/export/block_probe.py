"""Which values a block's nodes infer from their inputs' shapes follow an exposed parameter.

``Linear(16, 64)`` after a block input of width ``units`` should be written
``Linear(units, 64)``: the class is then right for any ``units``. To find such values, the flat
graph is inferred again with the exposed parameter's nodes set one higher, at each use of the
block; an inferred value that was the parameter's value and is now the new one follows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.graph.blocks.flatten import repetition_step
from app.graph.document import GraphDocument
from app.graph.export.block_code import join
from app.graph.export.common import NodeCode
from app.graph.specs import get_spec
from app.graph.validate import validate

if TYPE_CHECKING:
    from app.graph.blocks.definition import BlockDefinition

Follows = dict[tuple[str, str], str]
"""``(node path inside the block, value name)`` -> the exposed parameter it follows."""


def controlled(
    block: BlockDefinition, exposed: str, prefix: str, repeats: Mapping[str, int]
) -> list[tuple[str, str]]:
    """The flat ``(node id, parameter)`` pairs the exposed parameter ``exposed`` of ``block``,
    used at the flat prefix ``prefix``, sets (through inner blocks, every repetition)."""
    e = next((e for e in block.exposed if e.name == exposed), None)
    node = None if e is None else block.body.nodes.get(e.node_id)
    if e is None or node is None:
        return []
    if node.block is None:
        return [(join(prefix, node.id), e.param)]
    found = []
    for k in range(1, repeats.get(join(prefix, node.id), 1) + 1):
        step = join(prefix, repetition_step(node.id, k))
        found += controlled(node.block, e.param, step, repeats)
    return found


def inferred_after(
    flat: GraphDocument, changes: list[tuple[str, str]], value: Any
) -> dict[str, Mapping[str, Any]]:
    """Every flat node's inferred template values once each ``(node, parameter)`` of
    ``changes`` holds ``value`` (those whose inputs' shapes can still be inferred)."""
    targets: dict[str, set[str]] = {}
    for node_id, param in changes:
        targets.setdefault(node_id, set()).add(param)
    nodes = [
        dataclasses.replace(n, params={**n.params, **dict.fromkeys(targets[n.id], value)})
        if n.id in targets
        else n
        for n in flat.nodes.values()
    ]
    doc = GraphDocument.from_parts(nodes, flat.edges, flat.training)
    doc.base_dir = flat.base_dir
    result = validate(doc)  # a shape error further on leaves the shapes before it inferred
    wires = {(e.dst, e.dst_port): (e.src, e.src_port) for e in doc.edges}
    found: dict[str, Mapping[str, Any]] = {}
    for node_id in result.order:
        spec = get_spec(doc.nodes[node_id].type_id)
        if spec.template_values is None:
            continue
        params = spec.coerce_params(doc.resolved_params(node_id))
        shapes = {
            p.name: result.shapes[wires[(node_id, p.name)]]
            for p in spec.inputs
            if wires.get((node_id, p.name)) in result.shapes
        }
        try:
            found[node_id] = spec.template_values(params, shapes)
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # an input whose shape could not be inferred
    return found


def follows(
    block: BlockDefinition,
    uses: list[str],
    nodes: Mapping[str, NodeCode],
    flat: GraphDocument,
    repeats: Mapping[str, int],
) -> Follows:
    """The inferred values of ``block``'s nodes (at any depth) that follow one of its exposed
    whole-number parameters at every use."""
    found: Follows = {}
    for e in block.exposed:
        common: set[tuple[str, str]] | None = None
        for use in uses:
            here = _following(block, e.name, use, nodes, flat, repeats)
            common = here if common is None else common & here
        found.update(dict.fromkeys(common or (), e.name))
    return found


def _following(
    block: BlockDefinition,
    exposed: str,
    use: str,
    nodes: Mapping[str, NodeCode],
    flat: GraphDocument,
    repeats: Mapping[str, int],
) -> set[tuple[str, str]]:
    changes = controlled(block, exposed, use, repeats)
    if not changes or any(n not in nodes for n, _ in changes):
        return set()
    now = {nodes[n].params.get(p) for n, p in changes}
    value = now.pop() if len(now) == 1 else None
    if type(value) is not int:
        return set()
    inside = use + "__"
    candidates = [
        (flat_id, key)
        for flat_id, code in nodes.items()
        if flat_id.startswith(inside)
        for key, text in code.derived.items()
        if text == repr(value)
    ]
    if not candidates:
        return set()  # nothing inferred holds the value: no need to infer again
    after = inferred_after(flat, changes, value + 1)
    return {
        (flat_id[len(inside) :], key)
        for flat_id, key in candidates
        if after.get(flat_id, {}).get(key) == repr(value + 1)
    }
