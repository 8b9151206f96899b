"""What a run tells about the flat graph, told in terms of the graph people drew with blocks.

Training, stepping and the weights speak of flat ids (``res1__conv1``, see
:mod:`app.graph.blocks.flatten`); the canvas shows the document's own graph, or the inside of an
opened block. A *view path* names what the canvas shows: the block node ids from the graph
inward (``()`` is the graph itself). Each flat node is shown on the node of that graph it was
drawn in (a block node, or itself), and only there; a block node shows the largest gradient
norm of the nodes inside it, a non-finite one first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from app.graph.blocks.flatten import SEPARATOR, FlatGraph
from app.graph.document import GraphDocument
from app.graph.specs import get_spec

ViewPath = tuple[str, ...]
"""The block node ids from the graph inward to the graph the canvas shows (``()``: the graph)."""

PATH_MARK = " › "
"""Joins the steps of a node's place in texts: ``res1 › conv1``."""


def drawn_path(flat: FlatGraph, flat_id: str) -> tuple[str, ...]:
    """The node ids from the graph inward to where ``flat_id`` was drawn, repetitions of a
    repeated block folded into its block node: ``res1_r2__conv1`` -> ``("res1", "conv1")``."""
    path = flat.origin.get(flat_id)
    if path is None:
        return (flat_id,)
    found = []
    for i in range(1, len(path)):
        outer = SEPARATOR.join(path[: i - 1])
        step = SEPARATOR.join(path[:i])
        block = flat.instances.get(step, step)
        found.append(block[len(outer) + len(SEPARATOR) :] if outer else block)
    return (*found, path[-1])


def repetitions(flat: FlatGraph, flat_id: str) -> tuple[int, ...]:
    """Which repetition of each enclosing block ``flat_id`` sits in (1-based), outermost first."""
    path = flat.origin.get(flat_id, (flat_id,))
    drawn = drawn_path(flat, flat_id)
    found = []
    for step, node_id in zip(path[:-1], drawn[:-1], strict=True):
        tail = step[len(node_id) + 2 :]  # step is node_id or f"{node_id}_r{k}"
        found.append(int(tail) if step != node_id and tail.isdigit() else 1)
    return tuple(found)


def shown_id(flat: FlatGraph, flat_id: str, path: ViewPath = ()) -> str | None:
    """The node of the graph shown at ``path`` that ``flat_id`` is drawn in (or is); None when
    ``flat_id`` lies outside that graph."""
    drawn = drawn_path(flat, flat_id)
    depth = len(path)
    if len(drawn) > depth and drawn[:depth] == tuple(path):
        return drawn[depth]
    return None


def members(flat: FlatGraph, path: ViewPath = ()) -> dict[str, list[str]]:
    """Shown node id -> the flat ids it stands for, in flat order (nodes outside are left out)."""
    found: dict[str, list[str]] = {}
    for flat_id in flat.origin:
        shown = shown_id(flat, flat_id, path)
        if shown is not None:
            found.setdefault(shown, []).append(flat_id)
    return found


def worst_norm(norms: Iterable[float]) -> float:
    """The largest of ``norms``, a non-finite one (NaN, Inf) before any finite one."""
    best = -math.inf
    for norm in norms:
        if not math.isfinite(norm):
            return norm
        best = max(best, norm)
    return best


def norms_in_view(
    norms: Mapping[str, float], flat: FlatGraph, path: ViewPath = ()
) -> dict[str, float]:
    """Gradient norms by flat id as the nodes of the graph at ``path`` show them: a block node
    gets the largest norm inside it (:func:`worst_norm`), a plain node its own."""
    grouped: dict[str, list[float]] = {}
    for flat_id, norm in norms.items():
        shown = shown_id(flat, flat_id, path)
        if shown is not None:
            grouped.setdefault(shown, []).append(norm)
    return {shown: worst_norm(found) for shown, found in grouped.items()}


def place(document: GraphDocument, flat: FlatGraph, flat_id: str) -> str:
    """Where ``flat_id`` was drawn, as people read it: ``res1 › conv1`` (labels where set; the
    k-th repetition of a repeated block ``res1 #2``); a plain node's label or id alone."""
    graph: GraphDocument | None = document
    steps = []
    drawn = drawn_path(flat, flat_id)
    marks = (*repetitions(flat, flat_id), 1)
    for node_id, k in zip(drawn, marks, strict=True):
        node = graph.nodes.get(node_id) if graph is not None else None
        name = (node.label or node_id) if node is not None else node_id
        steps.append(name if k == 1 else f"{name} #{k}")
        graph = node.block.body if node is not None and node.block is not None else None
    return PATH_MARK.join(steps)


def flat_title(document: GraphDocument, flat: FlatGraph, flat_id: str) -> str:
    """``Conv2d 'res1 › conv1'``: the node's type title and its place (:func:`place`)."""
    node = flat.document.nodes.get(flat_id)
    if node is None:
        return f"'{place(document, flat, flat_id)}'"
    return f"{get_spec(node.type_id).title} '{place(document, flat, flat_id)}'"


__all__ = [
    "PATH_MARK",
    "ViewPath",
    "drawn_path",
    "flat_title",
    "members",
    "norms_in_view",
    "place",
    "repetitions",
    "shown_id",
    "worst_norm",
]
