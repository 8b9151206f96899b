"""Trained weights follow their nodes through group, ungroup and make unique; misfits of a
grouped graph are named with flat ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from app.graph import io
from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.evaluation import predict
from app.graph.metrics import StepMetrics
from app.graph.session import Session
from app.graph.weights_fit import fit_weights
from app.graph.weights_follow import follow, footprint, rename_weights

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)


def trained_xor(steps: int = 40) -> tuple[GraphDocument, dict[str, np.ndarray]]:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    session = Session(doc)
    events = (e for e in session.train(epochs=50) if isinstance(e, StepMetrics))
    for _ in itertools.islice(events, steps):
        pass
    return doc, session.weights()


def prediction(doc: GraphDocument, weights: dict[str, np.ndarray]) -> np.ndarray:
    program = compile_document(doc)
    program.load_state_dict(weights)
    return predict(program, X)


def block_node(doc: GraphDocument) -> str:
    return next(n for n, node in doc.nodes.items() if node.block is not None)


def test_weights_follow_a_group_and_predict_the_same() -> None:
    doc, weights = trained_xor()
    before_prediction = prediction(doc, weights)
    before = footprint(doc)
    doc.apply(grouping.group(doc, ["hidden", "tanh"], name="layer"))
    mapping = follow(before, footprint(doc))
    assert mapping is not None
    block = block_node(doc)
    assert mapping["hidden"] == f"{block}__hidden" and mapping["out"] == "out"
    moved = rename_weights(weights, mapping)
    assert f"{block}__hidden.weight" in moved and "hidden.weight" not in moved
    np.testing.assert_array_equal(prediction(doc, moved), before_prediction)


def test_weights_follow_ungroup_of_a_repeated_block_and_undo() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    doc.apply(grouping.group(doc, ["tanh"], name="act"))
    block = block_node(doc)
    doc.apply(mu.SetParam(block, "repeat", 3))
    session = Session(doc)
    weights = session.weights()
    expected = prediction(doc, weights)
    before = footprint(doc)
    undo = doc.apply(grouping.ungroup(doc, block))
    assert {"tanh", "tanh_r2", "tanh_r3"} <= set(doc.nodes)
    mapping = follow(before, footprint(doc))
    assert mapping is not None and mapping[f"{block}_r3__tanh"] == "tanh_r3"
    np.testing.assert_array_equal(prediction(doc, rename_weights(weights, mapping)), expected)
    middle = footprint(doc)
    doc.apply(undo)
    back = follow(middle, footprint(doc))
    assert back is not None and back["tanh_r2"] == f"{block}_r2__tanh"


def test_group_then_ungroup_brings_the_weights_home() -> None:
    doc, weights = trained_xor(5)
    expected = prediction(doc, weights)
    start = footprint(doc)
    doc.apply(grouping.group(doc, ["hidden"], name="layer"))
    block = block_node(doc)
    doc.apply(mu.SetLabel("tanh", "act"))  # a label is no model change
    middle = footprint(doc)
    there = follow(start, middle)
    assert there is not None
    moved = rename_weights(weights, there)
    doc.apply(grouping.ungroup(doc, block))
    back = follow(middle, footprint(doc))
    assert back is not None and back[f"{block}__hidden"] == "hidden"
    home = rename_weights(moved, back)
    assert home.keys() == weights.keys()
    np.testing.assert_array_equal(prediction(doc, home), expected)


def test_make_unique_keeps_flat_ids() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    doc.apply(grouping.group(doc, ["hidden", "tanh"], name="layer"))
    block = block_node(doc)
    before = footprint(doc)
    doc.apply(grouping.make_unique(doc, block))
    mapping = follow(before, footprint(doc))
    assert mapping is not None and all(old == new for old, new in mapping.items())


def test_a_model_edit_is_not_followed() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    doc.apply(grouping.group(doc, ["hidden", "tanh"], name="layer"))
    before = footprint(doc)
    block = block_node(doc)
    name = doc.nodes[block].block.name  # type: ignore[union-attr]
    from app.graph.blocks.mutations import EditBlock

    doc.apply(EditBlock(name, mu.SetParam("hidden", "units", 7)))
    assert follow(before, footprint(doc)) is None


def test_swapped_twins_are_told_apart_by_their_ids() -> None:
    """Two nodes computing the same thing keep their own weights (their ids tell them apart)."""
    doc = GraphDocument()
    for node_id, type_id, params in [
        ("data", "dataset", {"name": "spiral"}),
        ("left", "linear", {"units": 3}),
        ("right", "linear", {"units": 3}),
        ("join", "concat", {}),
        ("loss", "cross_entropy_loss", {}),
    ]:
        doc.add_node(type_id, params, node_id=node_id)
    for wire in [
        ("data", "x", "left", "x"),
        ("data", "x", "right", "x"),
        ("left", "y", "join", "a"),
        ("right", "y", "join", "b"),
        ("join", "y", "loss", "logits"),
        ("data", "y", "loss", "target"),
    ]:
        doc.connect(*wire)
    before = footprint(doc)
    doc.apply(grouping.group(doc, ["right"], name="twin"))
    mapping = follow(before, footprint(doc))
    assert mapping is not None
    assert mapping["left"] == "left" and mapping["right"] == f"{block_node(doc)}__right"


def test_saved_weights_that_misfit_a_grouped_graph_are_named_by_flat_id() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    doc.apply(grouping.group(doc, ["hidden", "tanh"], name="layer"))
    block = block_node(doc)
    weights = compile_document(doc).state_dict()
    name = doc.nodes[block].block.name  # type: ignore[union-attr]
    from app.graph.blocks.mutations import EditBlock

    doc.apply(EditBlock(name, mu.SetParam("hidden", "units", 5)))
    fitted, misfits = fit_weights(compile_document(doc), weights)
    assert [m.node_id for m in misfits] == [f"{block}__hidden", "out"]
    assert "5" in misfits[0].message or "units" in misfits[0].message
    assert fitted["out.bias"].shape == weights["out.bias"].shape


@pytest.mark.parametrize("key", ["plain", "node.with.dots"])
def test_rename_leaves_unknown_names(key: str) -> None:
    weights = {key: np.zeros(1)}
    assert list(rename_weights(weights, {"other": "x"})) == [key]
