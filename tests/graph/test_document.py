"""GraphDocument: mutations, their inverses, listeners, wire checks and dict round trips."""

from __future__ import annotations

import pytest

from app.graph import mutations as mu
from app.graph.document import DocumentEvent, Edge, EventKind, GraphDocument
from app.graph.errors import CycleError, GraphError, ParamError, PortKindError, UnknownNodeType


def mlp() -> GraphDocument:
    """dataset -> linear -> relu -> linear_2 -> cross-entropy <- dataset.y"""
    doc = GraphDocument()
    for type_id in ("dataset", "linear", "relu", "linear", "cross_entropy_loss"):
        doc.add_node(type_id)
    doc.connect("dataset_1", "x", "linear_1", "x")
    doc.connect("linear_1", "y", "relu_1", "x")
    doc.connect("relu_1", "y", "linear_2", "x")
    doc.connect("linear_2", "y", "cross_entropy_loss_1", "logits")
    doc.connect("dataset_1", "y", "cross_entropy_loss_1", "target")
    return doc


def test_add_node_fills_defaults_and_names_it() -> None:
    doc = GraphDocument()
    undo = doc.add_node("linear", {"units": 3}, position=(1, 2))
    node = doc.nodes["linear_1"]
    assert node.params == {"units": 3, "bias": True}
    assert node.position == (1.0, 2.0)
    assert node.title == "Linear"
    assert undo == mu.RemoveNode("linear_1")
    assert doc.new_node_id("linear") == "linear_2"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda d: d.add_node("nope"), UnknownNodeType, "unknown node type 'nope'"),
        (lambda d: d.add_node("linear", {"units": -4}), ParamError, "positive int, got -4"),
        (lambda d: d.add_node("linear", {"size": 3}), ParamError, "no parameter 'size'"),
        (lambda d: d.add_node("linear", node_id="dataset_1"), GraphError, "already a node"),
        (lambda d: d.add_node("linear", node_id="a b"), GraphError, "identifier"),
        (lambda d: d.set_param("dataset_1", "name", "mnist"), ParamError, "one of"),
        (lambda d: d.set_param("ghost", "units", 2), GraphError, "no node 'ghost'"),
        (lambda d: d.set_setting("batch_size", 0), ParamError, "positive int"),
        (lambda d: d.set_setting("colour", 1), ParamError, "no training setting"),
        (lambda d: d.remove_node("ghost"), GraphError, "no node 'ghost'"),
        (lambda d: d.move_nodes({"ghost": (0, 0)}), GraphError, "no node 'ghost'"),
        (lambda d: d.disconnect("relu_1", "y", "linear_1", "x"), GraphError, "no wire"),
        (lambda d: d.apply(object()), GraphError, "Not a document mutation"),
    ],
)
def test_refused_mutations_leave_the_document_unchanged(call, error, message) -> None:
    doc = mlp()
    before = doc.to_dict()
    with pytest.raises(error, match=message):
        call(doc)
    assert doc.to_dict() == before


def test_param_error_names_the_node_and_param() -> None:
    doc = mlp()
    with pytest.raises(ParamError) as info:
        doc.set_param("linear_1", "units", 0)
    assert (info.value.node_id, info.value.port) == ("linear_1", "units")
    assert str(info.value).startswith("linear_1.units: expected a positive int, got 0")


def test_check_connect_gives_reasons() -> None:
    doc = mlp()
    assert doc.check_connect("relu_1", "y", "relu_1", "x") == "Cannot connect a node to itself"
    assert doc.check_connect("cross_entropy_loss_1", "loss", "relu_1", "x").startswith(
        "Cross-entropy loss 'cross_entropy_loss_1'.loss carries loss values but ReLU 'relu_1'.x"
    )
    assert doc.check_connect("relu_1", "z", "linear_2", "x") == "ReLU 'relu_1' has no output 'z'"
    doc.set_label("linear_2", "head")
    assert doc.check_connect("relu_1", "y", "linear_2", "q") == "Linear 'head' has no input 'q'"
    assert doc.check_connect("ghost", "y", "linear_2", "x") == "There is no node 'ghost'"
    loop = doc.check_connect("linear_2", "y", "linear_1", "x")
    assert loop == "The wire would close a loop: linear_1 → relu_1 → linear_2 → linear_1"
    assert doc.check_connect("dataset_1", "x", "linear_2", "x") is None
    with pytest.raises(CycleError) as info:
        doc.connect("linear_2", "y", "linear_1", "x")
    assert info.value.nodes == ("linear_1", "relu_1", "linear_2")
    with pytest.raises(PortKindError):
        doc.connect("linear_1", "y", "cross_entropy_loss_1", "target")


def test_connect_replaces_the_wire_on_that_input_and_undo_restores_it() -> None:
    doc = mlp()
    before = doc.to_dict()
    undo = doc.connect("dataset_1", "x", "linear_2", "x")
    assert doc.input_edge("linear_2", "x") == Edge("dataset_1", "x", "linear_2", "x")
    assert Edge("relu_1", "y", "linear_2", "x") not in doc.edges
    assert undo == mu.Connect("relu_1", "y", "linear_2", "x")
    doc.apply(undo)
    assert doc.to_dict() == before


def test_remove_node_inverse_restores_node_wires_and_order() -> None:
    doc = mlp()
    before = doc.to_dict()
    undo = doc.remove_node("relu_1")
    assert "relu_1" not in doc.nodes
    assert all("relu_1" not in (e.src, e.dst) for e in doc.edges)
    redo = doc.apply(undo)
    assert doc.to_dict() == before
    assert redo == mu.RemoveNode("relu_1")


def test_listeners_hear_every_change() -> None:
    doc = mlp()
    heard: list[DocumentEvent] = []
    doc.add_listener(heard.append)
    undo = doc.remove_node("relu_1")
    kinds = [e.kind for e in heard]
    assert kinds == [EventKind.EDGE_REMOVED, EventKind.EDGE_REMOVED, EventKind.NODE_REMOVED]
    heard.clear()
    doc.apply(undo)
    assert heard[0].kind is EventKind.NODE_ADDED
    heard.clear()
    doc.set_param("linear_1", "units", 5)
    doc.move_nodes({"linear_1": (3, 4)})
    doc.set_setting("epochs", 3)
    assert heard == [
        DocumentEvent(EventKind.NODE_CHANGED, "linear_1", name="units"),
        DocumentEvent(EventKind.NODE_MOVED, "linear_1"),
        DocumentEvent(EventKind.SETTINGS_CHANGED, name="epochs"),
    ]
    doc.remove_listener(heard.append)
    doc.set_setting("epochs", 4)
    assert len(heard) == 3


def test_batch_is_all_or_nothing() -> None:
    doc = mlp()
    before = doc.to_dict()
    bad = mu.Batch((mu.SetParam("linear_1", "units", 7), mu.RemoveNode("ghost")), "Edit")
    with pytest.raises(GraphError):
        doc.apply(bad)
    assert doc.to_dict() == before
    good = mu.Batch((mu.SetParam("linear_1", "units", 7), mu.RemoveNode("relu_1")), "Tidy")
    undo = doc.apply(good)
    assert undo.describe() == "Tidy"
    doc.apply(undo)
    assert doc.to_dict() == before


def test_settings_and_labels() -> None:
    doc = GraphDocument()
    undo = doc.set_setting("learning_rate", 1)
    assert doc.training.learning_rate == 1.0
    doc.apply(undo)
    assert doc.training.learning_rate == 0.01
    doc.add_node("relu")
    doc.set_label("relu_1", "hidden act")
    assert doc.nodes["relu_1"].title == "hidden act"


def test_describe_texts_name_nodes_params_and_values_as_people_read_them() -> None:
    doc = GraphDocument()
    doc.add_node("dataset", node_id="data")
    doc.add_node("linear", node_id="linear_1")
    doc.set_label("linear_1", "logits")
    nodes = doc.nodes
    assert mu.AddNode(nodes["linear_1"]).describe(nodes) == "Add Linear"
    assert mu.RemoveNode("linear_1").describe(nodes) == "Delete Linear 'logits'"
    assert mu.MoveNodes({"data": (0, 0)}).describe(nodes) == "Move 'data'"
    assert mu.MoveNodes({"a": (0, 0), "b": (1, 1)}).describe(nodes) == "Move 2 nodes"
    wire = ("data", "x", "linear_1", "x")
    assert mu.Connect(*wire).describe(nodes) == "Connect Dataset 'data'.x → Linear 'logits'.x"
    assert mu.Disconnect(*wire).describe(nodes) == "Disconnect Dataset 'data'.x → Linear 'logits'.x"
    assert mu.SetParam("linear_1", "units", 32).describe(nodes) == "Set Units of 'logits' to 32"
    assert mu.SetParam("data", "images", True).describe(nodes) == "Set Images of 'data' to on"
    assert mu.SetLabel("linear_1", "head").describe(nodes) == "Rename 'logits' to 'head'"
    assert mu.SetLabel("linear_1", "").describe(nodes) == "Clear the label of 'logits'"
    assert mu.SetSetting("batch_size", 64).describe() == "Set Batch size to 64"
    assert mu.SetSetting("val_split", 0.25).describe() == "Set Validation split to 0.25"
    assert mu.SetSetting("optimizer", "sgd").describe() == "Set Optimizer to 'sgd'"
    long_path = mu.SetParam("data", "path", "/home/someone/datasets/digits.csv").describe(nodes)
    assert long_path == "Set Path of 'data' to '…one/datasets/digits.csv'"
    # Without the nodes (e.g. a node already gone) the ids stand in.
    assert mu.RemoveNode("linear_1").describe() == "Delete 'linear_1'"
    assert mu.Connect(*wire).describe() == "Connect 'data'.x → 'linear_1'.x"
    assert mu.SetParam("linear_1", "units", 8).describe() == "Set Units of 'linear_1' to 8"


def test_to_dict_has_format_version_and_stable_order() -> None:
    doc = mlp()
    data = doc.to_dict()
    assert list(data) == ["format", "version", "nodes", "edges", "training"]
    assert (data["format"], data["version"]) == ("nodegrad", 2)
    assert list(data["nodes"][1]) == ["id", "type", "label", "position", "params"]
    assert [e["dst"] for e in data["edges"]] == [
        "linear_1", "relu_1", "linear_2", "cross_entropy_loss_1", "cross_entropy_loss_1",
    ]  # fmt: skip
    assert GraphDocument.from_dict(data).to_dict() == data


def test_assign_resets_and_tells_listeners() -> None:
    doc = GraphDocument()
    heard: list[DocumentEvent] = []
    doc.add_listener(heard.append)
    doc.assign(mlp())
    assert heard == [DocumentEvent(EventKind.RESET)]
    assert doc.to_dict() == mlp().to_dict()
