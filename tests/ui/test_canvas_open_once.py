"""Opening a graph does each piece of canvas work once: every wire is routed once, after all
nodes are placed (the same route as routing it afresh), the run history's fingerprint and the
gradient plot's colours are not worked out for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.graph import io
from app.graph.document import GraphDocument
from app.ui.canvas import edge_item


def grid_document(columns: int = 6, rows: int = 5) -> GraphDocument:
    """Rows of Linear → Add pairs; each Add also takes what fed the Linear before it, a skip
    wire that has to go around that Linear."""
    doc = GraphDocument()
    doc.add_node("input", {"shape": "8"}, (-240.0, 0.0))
    for row in range(rows):
        previous = ("input_1", "x")
        for pair in range(columns // 2):
            fed = previous
            ids = []
            for col, type_id in ((2 * pair, "linear"), (2 * pair + 1, "add")):
                params = {"units": 8} if type_id == "linear" else {}
                doc.add_node(type_id, params, (col * 240.0, row * 160.0))
                ids.append(list(doc.nodes)[-1])
            linear, add = ids
            doc.connect(*fed, linear, "x")
            doc.connect(linear, "y", add, "a")
            doc.connect(*fed, add, "b")
            previous = (add, "y")
    return doc


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.nodegrad"
    io.save(grid_document(), path)
    return path


def test_each_wire_is_routed_once_and_as_if_afresh(window, grid_file, monkeypatch) -> None:
    calls: list[int] = []
    real = edge_item.routed_path

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(edge_item, "routed_path", counting)
    assert window.files.open(grid_file)
    edges = window.scene.edge_items()
    assert len(edges) == len(window.document.edges) > 40
    assert len(calls) == len(edges)  # was 2 per wire, and each label change laid it out again
    _nodes, boxes = window.scene.node_boxes()
    detours = 0
    for wire in edges:
        obstacles = [
            row
            for item, row in zip(*window.scene.node_boxes(), strict=True)
            if item not in (wire.src.node, wire.dst.node)
        ]
        fresh, used = real(wire.src.centre(), wire.end_point(), obstacles)
        assert wire.path() == fresh
        detours += bool(used)
        assert wire.label and wire.label_shown()  # the shape label came with the first layout
    assert detours >= 10  # the skip wires go around the node they jump over
    assert boxes.shape == (len(window.document.nodes), 4)


def test_open_skips_fingerprints_and_plot_colours_it_does_not_need(
    window, grid_file, monkeypatch
) -> None:
    import app.ui.results as results
    from app.ui.training import grad_plot

    hashes: list[int] = []
    colours: list[int] = []
    real_hash, real_colours = results.fingerprint, grad_plot.node_colours
    monkeypatch.setattr(results, "fingerprint", lambda d: hashes.append(1) or real_hash(d))
    monkeypatch.setattr(grad_plot, "node_colours", lambda b: colours.append(1) or real_colours(b))
    assert window.files.open(grid_file)
    assert hashes == []  # no run recorded beside the file: nothing to compare with
    assert colours == []  # no gradient curve yet
    assert window.training.grad_plot._colour("linear_1").isValid() and colours == [1]
    room = window.results_room
    first = room._fingerprint()
    assert room._fingerprint() == first and hashes == [1]  # once until the graph is edited
    window.editor.set_param("linear_1", "units", 9)
    assert room._fingerprint() != first and hashes == [1, 1]
