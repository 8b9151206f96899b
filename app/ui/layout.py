"""Auto-layout: nodes placed in topological layers (networkx), left to right or top to bottom."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping

import networkx as nx

LAYER_GAP = 80.0
NODE_GAP = 40.0


class Direction(enum.Enum):
    """Which way the layers advance."""

    LEFT_TO_RIGHT = "Left to right"
    TOP_TO_BOTTOM = "Top to bottom"


def _layers(nodes: list[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Topological generations; a graph with a cycle falls back to longest-path-free BFS."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    try:
        return [list(layer) for layer in nx.topological_generations(graph)]
    except nx.NetworkXUnfeasible:
        condensed = nx.condensation(graph)
        members = nx.get_node_attributes(condensed, "members")
        return [
            [n for c in layer for n in nodes if n in members[c]]
            for layer in nx.topological_generations(condensed)
        ]


def _ordered(
    layers: list[list[str]], nodes: list[str], edges: list[tuple[str, str]]
) -> list[list[str]]:
    """Order each layer by the mean rank of its predecessors (fewer crossings)."""
    first_seen = {n: i for i, n in enumerate(nodes)}
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        preds[dst].append(src)
    rank: dict[str, float] = {}
    result = []
    for layer in layers:
        ordered = sorted(
            layer, key=lambda n: (_mean_rank(preds[n], rank, first_seen[n]), first_seen[n])
        )
        rank.update({n: float(i) for i, n in enumerate(ordered)})
        result.append(ordered)
    return result


def _mean_rank(preds: list[str], rank: dict[str, float], default: float) -> float:
    """The mean position of the already placed predecessors (``default`` when none)."""
    known = [rank[p] for p in preds if p in rank]
    return sum(known) / len(known) if known else default


def layered_positions(
    nodes: list[str],
    edges: list[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    direction: Direction = Direction.LEFT_TO_RIGHT,
    origin: tuple[float, float] = (0.0, 0.0),
    room: Mapping[str, float] | None = None,
) -> dict[str, tuple[float, float]]:
    """Top-left positions for every node, layer by layer, with no two nodes overlapping.

    Wired nodes go in topological layers; nodes without any wire go in a grid below them
    (beside them when the layers run downwards), as wide as the layers.

    Parameters
    ----------
    nodes : list of str
        Node ids (their order breaks ties).
    edges : list of (str, str)
        Wires as (source id, destination id).
    sizes : mapping
        Width and height of every node.
    direction : Direction
        Whether layers advance to the right or downwards.
    origin : (float, float)
        Where the first layer starts.
    room : mapping, optional
        Space a node needs after it, along the layers (e.g. for the shape labels of its
        wires); the gap after a layer is the largest of its nodes' rooms, at least
        ``LAYER_GAP``.

    Examples
    --------
    >>> pos = layered_positions(["a", "b"], [("a", "b")], {"a": (10, 10), "b": (10, 10)})
    >>> pos["b"][0] > pos["a"][0]
    True
    >>> wide = layered_positions(["a", "b"], [("a", "b")], {"a": (10, 10), "b": (10, 10)},
    ...                          room={"a": 150.0})
    >>> wide["b"][0] - wide["a"][0]
    160
    """
    lr = direction is Direction.LEFT_TO_RIGHT
    along, across = (0, 1) if lr else (1, 0)
    wired = {n for edge in edges for n in edge}
    loose = [n for n in nodes if n not in wired]
    positions: dict[str, tuple[float, float]] = {}
    cursor = origin[along]
    layers = _ordered(_layers([n for n in nodes if n in wired], edges), nodes, edges)
    for layer in layers:
        depth = max(sizes[n][along] for n in layer)
        extent = sum(sizes[n][across] for n in layer) + NODE_GAP * (len(layer) - 1)
        offset = origin[across] - extent / 2
        for n in layer:
            point = [0.0, 0.0]
            point[along] = cursor
            point[across] = offset
            positions[n] = (round(point[0]), round(point[1]))
            offset += sizes[n][across] + NODE_GAP
        gap = max([LAYER_GAP, *((room or {}).get(n, 0.0) for n in layer)])
        cursor += depth + math.ceil(gap)  # whole pixels: rounding never eats into the room
    if loose:
        below = max((positions[n][across] + sizes[n][across] for n in wired), default=None)
        start = list(origin)
        if below is not None:
            start[across] = below + 2 * NODE_GAP
        columns = max(len(layers), math.ceil(math.sqrt(len(loose))))
        positions.update(_grid(loose, sizes, columns, along, (start[0], start[1])))
    return positions


def _grid(
    nodes: list[str],
    sizes: Mapping[str, tuple[float, float]],
    columns: int,
    along: int,
    origin: tuple[float, float],
) -> dict[str, tuple[float, float]]:
    """Unwired nodes in rows of ``columns`` cells, rows stacked across the layers' direction."""
    across = 1 - along
    step_along = max(sizes[n][along] for n in nodes) + LAYER_GAP
    step_across = max(sizes[n][across] for n in nodes) + NODE_GAP
    placed: dict[str, tuple[float, float]] = {}
    for k, n in enumerate(nodes):
        point = [0.0, 0.0]
        point[along] = origin[along] + (k % columns) * step_along
        point[across] = origin[across] + (k // columns) * step_across
        placed[n] = (round(point[0]), round(point[1]))
    return placed
