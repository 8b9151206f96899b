"""Blocks, headless: grouping, instances, repeat, exposed parameters, and what sees through them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.graph import io
from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import instance_count
from app.graph.blocks.flatten import flatten
from app.graph.blocks.grouping import expose, group, hide, make_unique, ungroup
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.session import Session
from app.graph.validate import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RESIDUAL = ["conv1", "bn1", "relu1", "conv2", "bn2", "skip", "block_relu"]


def mlp(hidden: int = 2) -> GraphDocument:
    """dataset -> (linear -> relu) x hidden -> linear -> cross-entropy <- dataset.y"""
    doc = GraphDocument()
    doc.add_node("dataset", node_id="data")
    previous = "data", "x"
    for i in range(1, hidden + 1):
        doc.add_node("linear", {"units": 8}, node_id=f"dense{i}")
        doc.add_node("relu", node_id=f"act{i}")
        doc.connect(*previous, f"dense{i}", "x")
        doc.connect(f"dense{i}", "y", f"act{i}", "x")
        previous = f"act{i}", "y"
    doc.add_node("linear", {"units": 3}, node_id="head")
    doc.add_node("cross_entropy_loss", node_id="loss")
    doc.connect(*previous, "head", "x")
    doc.connect("head", "y", "loss", "logits")
    doc.connect("data", "y", "loss", "target")
    return doc


def residual() -> GraphDocument:
    return io.load(EXAMPLES / "residual_cnn.nodegrad")


def first_losses(doc: GraphDocument, steps: int = 6) -> list[float]:
    session = Session(doc)
    found = [e.loss for e in session.train(1) if hasattr(e, "loss") and e.loss is not None]
    return found[:steps]


def test_group_makes_one_block_node_with_ports_named_after_the_inner_ports() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    assert list(doc.blocks) == ["layer"]
    node = doc.nodes["layer_1"]
    assert node.block is doc.blocks["layer"]
    assert [p.name for p in node.spec.inputs] == ["x"]
    assert [p.name for p in node.spec.outputs] == ["y"]
    assert node.title == "layer"
    assert doc.input_edge("layer_1", "x") == mu.Edge("data", "x", "layer_1", "x")
    assert doc.input_edge("dense2", "x") == mu.Edge("layer_1", "y", "dense2", "x")
    assert validate(doc).ok


def test_group_then_undo_restores_the_document_exactly() -> None:
    doc = residual()
    before = doc.to_dict()
    undo = doc.apply(group(doc, RESIDUAL, name="residual"))
    grouped = doc.to_dict()
    redo = doc.apply(undo)
    assert doc.to_dict() == before
    doc.apply(redo)
    assert doc.to_dict() == grouped


def test_a_grouped_graph_trains_exactly_as_the_ungrouped_one() -> None:
    plain, grouped = residual(), residual()
    grouped.apply(group(grouped, RESIDUAL, name="residual"))
    assert first_losses(grouped) == first_losses(plain)


def test_ungroup_puts_the_nodes_back_and_drops_the_unused_definition() -> None:
    doc = mlp()
    before = validate(doc)
    doc.apply(group(doc, ["dense1", "act1"]))
    doc.apply(ungroup(doc, "block_1"))
    assert not doc.blocks
    assert set(doc.nodes) == {"data", "dense1", "act1", "dense2", "act2", "head", "loss"}
    after = validate(doc)
    assert after.ok
    assert after.shapes[("act1", "y")] == before.shapes[("act1", "y")]


def test_two_instances_share_the_inside_and_have_their_own_weights() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    copy = doc.nodes["layer_1"]
    doc.apply(mu.AddNode(mu.Node("layer_2", "block", {}, (0, 0), block=copy.block)))
    doc.apply(mu.Disconnect("act2", "y", "head", "x"))
    doc.connect("act2", "y", "layer_2", "x")
    doc.connect("layer_2", "y", "head", "x")
    assert instance_count(doc, "layer") == 2
    doc.apply(bm.EditBlock("layer", mu.SetParam("dense1", "units", 16)))
    flat = flatten(doc).document
    assert flat.nodes["layer_1__dense1"].params["units"] == 16
    assert flat.nodes["layer_2__dense1"].params["units"] == 16
    names = {name.split(".")[0] for name, _ in Session(doc).program.named_parameters()}
    assert {"layer_1__dense1", "layer_2__dense1"} <= names


def test_make_unique_splits_one_instance_off() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.apply(mu.AddNode(mu.Node("layer_2", "block", {}, (0, 0), block=doc.blocks["layer"])))
    undo = doc.apply(make_unique(doc, "layer_2"))
    assert doc.nodes["layer_2"].block is doc.blocks["layer_2"]
    doc.apply(bm.EditBlock("layer_2", mu.SetParam("dense1", "units", 3)))
    assert doc.blocks["layer"].body.nodes["dense1"].params["units"] == 8
    doc.apply(bm.EditBlock("layer_2", mu.SetParam("dense1", "units", 8)))
    doc.apply(undo)
    assert list(doc.blocks) == ["layer"]


def test_repeat_chains_copies_each_with_its_own_weights() -> None:
    doc = mlp(hidden=1)
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.set_param("layer_1", "repeat", 3)
    result = validate(doc)
    assert not result.ok  # spiral has 2 features, the block gives 8: the shape changes
    assert "repeats 3 times" in result.errors[0].message
    doc.apply(bm.EditBlock("layer", mu.SetParam("dense1", "units", 2)))
    result = validate(doc)
    assert result.ok, [d.message for d in result.errors]
    flat = flatten(doc).document
    assert {"layer_1__dense1", "layer_1_r2__dense1", "layer_1_r3__dense1"} <= set(flat.nodes)
    assert result.param_counts["layer_1"] == 3 * (2 * 2 + 2)


def test_repeat_refuses_a_block_with_two_outputs() -> None:
    doc = mlp(hidden=1)
    doc.apply(group(doc, ["dense1"], name="layer"))
    doc.apply(bm.EditBlock("layer", mu.AddNode(mu.Node("y_2", "block_output", {}, (0, 0)))))
    doc.apply(bm.EditBlock("layer", mu.Connect("dense1", "y", "y_2", "x")))
    doc.set_param("layer_1", "repeat", 2)
    messages = [d.message for d in validate(doc).errors]
    assert any("repeat needs one input and one output" in m for m in messages), messages


def test_an_error_inside_a_block_is_on_the_block_node_and_names_the_inner_node() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.apply(bm.EditBlock("layer", mu.Disconnect("dense1", "y", "act1", "x")))
    errors = validate(doc).errors
    inside = [d for d in errors if d.inner == "layer_1__act1"]
    assert inside and inside[0].node_id == "layer_1"
    assert inside[0].message.startswith("In block layer 'layer_1' › act1: ")


def test_exposed_parameters_are_set_per_instance_and_undo_restores_them() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    undo_expose = doc.apply(expose(doc, "layer", "dense1", "units"))
    assert doc.nodes["layer_1"].params == {"repeat": 1, "units": 8}
    doc.set_param("layer_1", "units", 5)
    assert flatten(doc).document.nodes["layer_1__dense1"].params["units"] == 5
    assert validate(doc).shapes[("layer_1", "y")] == (None, 5)
    undo_hide = doc.apply(hide(doc, "layer", "units"))
    assert doc.nodes["layer_1"].params == {"repeat": 1}
    doc.apply(undo_hide)
    assert doc.nodes["layer_1"].params == {"repeat": 1, "units": 5}
    doc.set_param("layer_1", "units", 8)
    doc.apply(undo_expose)
    assert doc.nodes["layer_1"].params == {"repeat": 1}


def test_removing_a_port_inside_drops_the_wires_outside_and_undo_restores_them() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    before = doc.to_dict()
    undo = doc.apply(bm.EditBlock("layer", mu.RemoveNode("y")))
    assert doc.input_edge("dense2", "x") is None
    doc.apply(undo)
    assert doc.to_dict() == before


def test_deleting_an_exposed_node_inside_drops_its_parameter_and_undo_restores_it() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.apply(expose(doc, "layer", "dense1", "units"))
    doc.set_param("layer_1", "units", 5)
    before = doc.to_dict()
    undo = doc.apply(bm.EditBlock("layer", mu.RemoveNode("dense1")))
    assert doc.blocks["layer"].exposed == ()
    assert doc.nodes["layer_1"].params == {"repeat": 1}
    assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()
    doc.apply(undo)
    assert doc.to_dict() == before


def test_a_block_cannot_contain_itself() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="outer"))
    inside = mu.AddNode(mu.Node("me", "block", {}, (0, 0), block=doc.blocks["outer"]))
    with pytest.raises(GraphError, match="cannot contain itself"):
        doc.apply(bm.EditBlock("outer", inside))


def test_nested_blocks_flatten_and_train() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="inner"))
    doc.apply(group(doc, ["inner_1", "dense2", "act2"], name="outer"))
    flat = flatten(doc)
    assert "outer_1__inner_1__dense1" in flat.document.nodes
    assert flat.enclosing("outer_1__inner_1__dense1") == ["outer_1", "outer_1__inner_1"]
    result = validate(doc)
    assert result.ok
    assert result.param_counts["outer_1"] == result.param_counts["outer_1__inner_1"] + 8 * 8 + 8
    assert first_losses(doc) == first_losses(mlp())


def test_ids_that_collide_once_flattened_are_an_error_not_a_crash() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.add_node("relu", node_id="layer_1__act1")
    messages = [d.message for d in validate(doc).errors]
    assert any("would both be called 'layer_1__act1'" in m for m in messages), messages


def test_block_edits_apply_to_the_graph_not_inside_a_block() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    with pytest.raises(GraphError, match="whole graph"):
        doc.blocks["layer"].body.apply(bm.RemoveBlock("layer"))
    with pytest.raises(GraphError, match="used by 1 node"):
        doc.apply(bm.RemoveBlock("layer"))
    with pytest.raises(GraphError, match="inside a block"):
        doc.add_node("block_input")


def test_rename_block_follows_in_files() -> None:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    undo = doc.apply(bm.RenameBlock("layer", "stage"))
    assert doc.nodes["layer_1"].spec.title == "stage"
    assert io.loads(io.dumps(doc)).blocks["stage"].body.owner == "stage"
    doc.apply(undo)
    assert list(doc.blocks) == ["layer"]
    with pytest.raises(GraphError, match="identifier"):
        doc.apply(bm.RenameBlock("layer", "two words"))


def test_a_problem_in_a_repeated_block_is_told_once_with_its_path() -> None:
    doc = mlp(hidden=1)
    doc.apply(group(doc, ["dense1", "act1"], name="layer"))
    doc.apply(bm.EditBlock("layer", mu.SetParam("dense1", "units", 2)))
    doc.set_param("layer_1", "repeat", 2)
    doc.apply(bm.EditBlock("layer", mu.Disconnect("dense1", "y", "act1", "x")))
    errors = [d for d in validate(doc).errors if d.inner is not None]
    assert len(errors) == 1
    assert errors[0].node_id == "layer_1"
    assert errors[0].message.startswith("In block layer 'layer_1' › act1: ")


def test_an_edit_inside_never_makes_an_outside_wire_unloadable() -> None:
    doc = mlp()
    doc.apply(group(doc, ["loss"], name="scorer"))  # the targets are wired into the block
    doc.apply(bm.EditBlock("scorer", mu.AddNode(mu.Node("dense9", "linear", {}, (0, 0)))))
    assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()
    doc.apply(bm.EditBlock("scorer", mu.Disconnect("target", "y", "loss", "target")))
    doc.apply(bm.EditBlock("scorer", mu.Connect("target", "y", "dense9", "x")))
    messages = [d.message for d in validate(doc).errors]
    assert any("carries the targets" in m for m in messages), messages


def test_rewiring_inside_never_makes_an_outside_wire_the_wrong_kind() -> None:
    doc = mlp()
    doc.apply(group(doc, ["data", "dense1", "act1"], name="b"))  # the labels leave the block
    out = next(e for e in doc.edges if e.dst == "loss" and e.dst_port == "target")
    port = out.src_port
    doc.apply(bm.EditBlock("b", mu.Disconnect("data", "y", port, "x")))
    doc.apply(bm.EditBlock("b", mu.Connect("dense1", "y", port, "x")))  # now values, not labels
    assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()
    (error,) = validate(doc).errors  # not also "target is not connected"
    assert (error.node_id, error.port) == ("loss", "target")
    assert error.message.startswith("Linear 'b_1 › dense1'.y carries tensor values but"), error
