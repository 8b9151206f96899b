"""Random mutation sequences, undone by their inverses in reverse, restore the document exactly."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.graph import io
from app.graph import mutations as mu
from app.graph.document import TRAINING_PARAMS, GraphDocument, Node
from app.graph.errors import GraphError, ParamError, PortKindError
from app.graph.mutations import MoveNodes
from app.graph.specs import REGISTRY, ParamType, get_spec
from tests.property_budget import examples

TYPES = sorted(REGISTRY)


def _param_value(draw: st.DrawFn, spec_param) -> object:
    p = spec_param
    if p.type is ParamType.BOOL:
        return draw(st.booleans())
    if p.type is ParamType.CHOICE:
        return draw(st.sampled_from(p.choices))
    if p.type is ParamType.INT:
        lo = int(p.minimum) if p.minimum is not None else -5
        return draw(st.integers(lo - 1, min(int(p.maximum or 50), lo + 50)))
    if p.type is ParamType.FLOAT:
        return draw(st.floats(-1.0, 2.0, allow_nan=False))
    return draw(st.sampled_from(["", "1,8,8", "4", "x,"]))


@st.composite
def mutation(draw: st.DrawFn, doc: GraphDocument) -> mu.Mutation:
    ids = list(doc.nodes) or ["ghost"]
    pick = draw(st.integers(0, 7))
    node_id = draw(st.sampled_from(ids))
    if pick == 0 or not doc.nodes:
        type_id = draw(st.sampled_from(TYPES))
        return mu.AddNode(Node(doc.new_node_id(type_id), type_id, {}, (1.0, 2.0)))
    node = doc.nodes.get(node_id)
    if pick == 1:
        return mu.RemoveNode(node_id)
    if pick == 2:
        return mu.MoveNodes({node_id: (draw(st.floats(-99, 99)), 0.5)})
    if pick == 4 and doc.edges:
        edge = draw(st.sampled_from(doc.edges))
        return mu.Disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    if pick in (3, 4):
        srcs = [n for n in ids if doc.nodes[n].spec.outputs] or ids
        dsts = [n for n in ids if doc.nodes[n].spec.inputs] or ids
        src, dst = draw(st.sampled_from(srcs)), draw(st.sampled_from(dsts))
        outs = [p.name for p in doc.nodes[src].spec.outputs] or ["y"]
        ins = [p.name for p in doc.nodes[dst].spec.inputs] or ["x"]
        return mu.Connect(src, draw(st.sampled_from(outs)), dst, draw(st.sampled_from(ins)))
    if pick == 5 and node is not None and node.spec.params:
        p = draw(st.sampled_from(node.spec.params))
        return mu.SetParam(node_id, p.name, _param_value(draw, p))
    if pick == 6:
        return mu.SetLabel(node_id, draw(st.text(max_size=5)))
    p = draw(st.sampled_from(TRAINING_PARAMS))
    return mu.SetSetting(p.name, _param_value(draw, p))


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_inverses_in_reverse_restore_every_state(data: st.DataObject) -> None:
    doc = GraphDocument()
    snapshots = [doc.to_dict()]
    undo: list[mu.Mutation] = []
    for _ in range(data.draw(st.integers(1, 25))):
        m = data.draw(mutation(doc))
        before = doc.to_dict()
        try:
            inverse = doc.apply(m)
        except GraphError:
            assert doc.to_dict() == before, f"refused {m} changed the document"
            continue
        event(f"applied {type(m).__name__}")
        undo.append(inverse)
        snapshots.append(doc.to_dict())
        assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()
    undo_then_redo(doc, undo, snapshots)


def undo_then_redo(
    doc: GraphDocument, undo: list[mu.Mutation], snapshots: list[dict[str, object]]
) -> None:
    """Apply the inverses in reverse, checking each earlier state, then redo them all."""
    final = doc.to_dict()
    redo = []
    for inverse in reversed(undo):
        snapshots.pop()
        redo.append(doc.apply(inverse))
        assert doc.to_dict() == snapshots[-1]
    for again in reversed(redo):
        doc.apply(again)
    assert doc.to_dict() == final


def test_batch_inverse_of_a_remove_and_readd() -> None:
    doc = GraphDocument()
    doc.add_node("linear")
    doc.add_node("relu")
    doc.connect("linear_1", "y", "relu_1", "x")
    before = doc.to_dict()
    undo = doc.apply(mu.Batch((mu.RemoveNode("linear_1"), mu.SetLabel("relu_1", "r")), "x"))
    doc.apply(undo)
    assert doc.to_dict() == before
    assert get_spec("relu").title == "ReLU"


@pytest.mark.parametrize(
    "position", [(math.nan, 0.0), (0.0, math.inf), (-math.inf, 1.0), (10**400, 0), ("a", 1)]
)
def test_move_nodes_refuses_positions_that_are_not_finite_numbers(position: Any) -> None:
    doc = GraphDocument()
    doc.add_node("relu", position=(5, 6), node_id="r")
    before = doc.to_dict()
    with pytest.raises(ParamError, match="position"):
        doc.apply(MoveNodes({"r": position}))
    with pytest.raises(ParamError):
        doc.add_node("relu", position=position)
    assert doc.to_dict() == before


def test_a_dataset_target_is_refused_as_a_layer_input() -> None:
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "iris"}, node_id="data")
    doc.add_node("linear", node_id="fc")
    doc.add_node("mse_loss", node_id="loss")
    reason = doc.check_connect("data", "y", "fc", "x")
    assert reason is not None and "carries the targets" in reason
    with pytest.raises(PortKindError):
        doc.connect("data", "y", "fc", "x")
    doc.connect("data", "y", "loss", "target")
    doc.connect("data", "x", "fc", "x")
