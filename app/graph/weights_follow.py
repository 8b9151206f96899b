"""Trained weights that follow their nodes when blocks are grouped, ungrouped or made unique.

Weights are keyed by flat ids (``res1__conv1.weight``), and grouping nodes into a block renames
them (``conv1`` becomes ``block_1__conv1``) while the graph computes exactly what it did. A
:class:`Footprint` records what a document's flat graph computes without its ids: each node's
type and parameters and, recursively, what feeds it. :func:`follow` pairs the nodes of two
footprints when they compute the same thing (None otherwise), and :func:`rename_weights` moves
the weights onto the new ids.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.graph.blocks.flatten import flatten
from app.graph.document import GraphDocument

Wire = tuple[str, str, str, str]


@dataclass(frozen=True)
class Footprint:
    """What a document's flat graph computes, and the ids it does it with.

    Attributes
    ----------
    keys
        Flat id -> a digest of the node's type, parameters and (recursively) inputs.
    names
        Flat id -> the id the node was drawn with (the last step of its path).
    wires
        Every wire of the flat graph as ``(src, src_port, dst, dst_port)``.
    """

    keys: Mapping[str, str]
    names: Mapping[str, str]
    wires: frozenset[Wire]


def footprint(document: GraphDocument) -> Footprint:
    """The :class:`Footprint` of ``document`` as it is now (a snapshot: later edits leave it)."""
    flat = flatten(document)
    graph = flat.document
    feeds: dict[str, list[tuple[str, str, str]]] = {node_id: [] for node_id in graph.nodes}
    wires = set()
    for e in graph.edges:
        feeds[e.dst].append((e.dst_port, e.src, e.src_port))
        wires.add((e.src, e.src_port, e.dst, e.dst_port))
    keys: dict[str, str] = {}
    for start in graph.nodes:
        stack, visiting = [start], {start}
        while stack:
            node_id = stack[-1]
            waiting = [s for _, s, _ in feeds[node_id] if s not in keys and s not in visiting]
            if waiting:
                stack.extend(waiting)
                visiting.update(waiting)
                continue
            stack.pop()
            node = graph.nodes[node_id]
            inputs = sorted((port, keys.get(src, "loop"), out) for port, src, out in feeds[node_id])
            text = json.dumps([node.type_id, node.params, inputs], sort_keys=True, default=repr)
            keys[node_id] = hashlib.sha1(text.encode("utf-8")).hexdigest()
    names = {node_id: flat.origin.get(node_id, (node_id,))[-1] for node_id in graph.nodes}
    return Footprint(keys, names, frozenset(wires))


def _stem(name: str) -> str:
    """An id without what ungrouping adds to keep it unique: ``conv_r2`` and ``conv_2`` give
    ``conv``."""
    head, _, tail = name.rpartition("_")
    if head and tail.isdigit():
        name = head
    head, _, tail = name.rpartition("_")
    if head and tail[:1] == "r" and tail[1:].isdigit():
        name = head
    return name


def follow(before: Footprint, after: Footprint) -> dict[str, str] | None:
    """Old flat id -> new flat id when ``after`` computes exactly what ``before`` did, wired
    the same way under that renaming; None when it does not (the model changed).

    Nodes that compute the same thing are told apart by the id they were drawn with (group
    keeps it; ungroup numbers it when taken), then by their order.
    """
    if Counter(before.keys.values()) != Counter(after.keys.values()):
        return None
    pool: dict[str, list[str]] = {}
    for node_id, key in after.keys.items():
        pool.setdefault(key, []).append(node_id)
    mapping: dict[str, str] = {}
    tests: list[Callable[[str, str], bool]] = [
        lambda old, new: before.names[old] == after.names[new],
        lambda old, new: _stem(before.names[old]) == _stem(after.names[new]),
        lambda old, new: True,
    ]
    for same in tests:
        for old, key in before.keys.items():
            if old in mapping:
                continue
            found = next((new for new in pool[key] if same(old, new)), None)
            if found is not None:
                mapping[old] = found
                pool[key].remove(found)
    moved = {(mapping[s], sp, mapping[d], dp) for s, sp, d, dp in before.wires}
    return mapping if moved == after.wires else None


def rename_weights(
    weights: Mapping[str, np.ndarray], mapping: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """``weights`` (keyed ``node.name``) with each node id renamed by ``mapping``."""
    renamed = {}
    for key, value in weights.items():
        node_id, dot, rest = key.partition(".")
        renamed[f"{mapping.get(node_id, node_id)}{dot}{rest}"] = value
    return renamed


__all__ = ["Footprint", "follow", "footprint", "rename_weights"]
