"""Placing imported nodes: one column per depth (longest path from a source), left to right."""

from __future__ import annotations

from collections.abc import Mapping

COLUMN, ROW = 260.0, 180.0


def layered_positions(inputs: Mapping[str, list[str]]) -> dict[str, tuple[float, float]]:
    """Positions for nodes given in topological order with the ids feeding each one.

    Examples
    --------
    >>> layered_positions({"a": [], "b": ["a"], "c": ["a"]})
    {'a': (0.0, 0.0), 'b': (260.0, -90.0), 'c': (260.0, 90.0)}
    """
    depth: dict[str, int] = {}
    for node_id, sources in inputs.items():
        depth[node_id] = 1 + max((depth[s] for s in sources if s in depth), default=-1)
    columns: dict[int, list[str]] = {}
    for node_id, d in depth.items():
        columns.setdefault(d, []).append(node_id)
    positions: dict[str, tuple[float, float]] = {}
    for d, ids in columns.items():
        top = -(len(ids) - 1) * ROW / 2
        for row, node_id in enumerate(ids):
            positions[node_id] = (d * COLUMN, top + row * ROW)
    return positions
