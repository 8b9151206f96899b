"""Auto-layout positions (plain Python): layers for wired nodes, a grid for unwired ones."""

from __future__ import annotations

import itertools

import pytest

from app.ui.layout import Direction, layered_positions

SIZE = (160.0, 60.0)


def rects(positions: dict[str, tuple[float, float]]) -> dict[str, tuple[float, ...]]:
    return {n: (x, y, x + SIZE[0], y + SIZE[1]) for n, (x, y) in positions.items()}


def assert_no_overlaps(positions: dict[str, tuple[float, float]]) -> None:
    for (a, ra), (b, rb) in itertools.combinations(rects(positions).items(), 2):
        apart = ra[2] <= rb[0] or rb[2] <= ra[0] or ra[3] <= rb[1] or rb[3] <= ra[1]
        assert apart, f"{a} overlaps {b}"


@pytest.mark.parametrize("direction", list(Direction))
def test_unwired_nodes_go_in_a_grid_beside_the_layers(direction: Direction) -> None:
    nodes = ["a", "b", "c", "x", "y", "z", "w"]
    edges = [("a", "b"), ("b", "c")]
    pos = layered_positions(nodes, edges, dict.fromkeys(nodes, SIZE), direction)
    assert_no_overlaps(pos)
    along, across = (0, 1) if direction is Direction.LEFT_TO_RIGHT else (1, 0)
    assert pos["a"][along] < pos["b"][along] < pos["c"][along]
    chain_end = max(pos[n][across] + SIZE[across] for n in "abc")
    assert all(pos[n][across] > chain_end for n in "xyzw")  # below (or beside) the chain
    # three columns, as wide as the three layers: x y z in one row, w starts the next
    assert pos["x"][across] == pos["y"][across] == pos["z"][across] < pos["w"][across]
    assert pos["x"][along] == pos["w"][along] == pos["a"][along]


def test_only_unwired_nodes_make_a_square_grid() -> None:
    nodes = [f"n{k}" for k in range(9)]
    pos = layered_positions(nodes, [], dict.fromkeys(nodes, SIZE), origin=(10.0, 20.0))
    assert_no_overlaps(pos)
    assert len({x for x, _ in pos.values()}) == 3 and len({y for _, y in pos.values()}) == 3
    assert pos["n0"] == (10, 20)
