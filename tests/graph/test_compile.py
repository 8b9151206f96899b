"""compile_document: engine objects per node, topological order, ops tagged with their node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.graph import io
from app.graph.compile import CompileError, Program, compile_document
from app.graph.document import GraphDocument
from app.graph.errors import GraphError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def ops_by_tag(root) -> dict:  # type: ignore[no-untyped-def]
    """Every op result reachable from ``root``, grouped by tag."""
    found: dict = {}
    stack, seen = [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or not t.creators:
            continue
        seen.add(id(t))
        found.setdefault(t.tag, []).append(t.creation_op)
        stack.extend(t.creators)
    return found


def test_program_follows_validation_order_and_builds_layers() -> None:
    program = compile_document(load("digits_mlp"))
    assert isinstance(program, Program)
    assert (
        program.order.index("data")
        < program.order.index("dense1")
        < program.order.index("logits")
        < program.order.index("loss")
    )
    assert program.modules["data"] is None
    assert program.modules["dense1"].weight.shape == (64, 128)
    assert program.modules["logits"].weight.shape == (128, 10)
    assert program.data_node == "data"
    assert program.loss_nodes == ["loss"]
    assert program.output_node == "output"
    assert [name for name, _ in program.named_parameters()] == [
        "dense1.weight", "dense1.bias", "logits.weight", "logits.bias",
    ]  # fmt: skip


def test_every_op_is_tagged_with_the_node_that_made_it() -> None:
    program = compile_document(load("digits_cnn"))
    x, y = program.dataset.x[:4], program.dataset.y[:4]
    values = program.forward(x, y)
    loss = program.loss(values)
    tags = ops_by_tag(loss)
    assert None not in tags
    assert set(tags) == {"conv", "relu", "pool", "flatten", "logits", "loss"}
    assert values["logits"]["y"].shape == (4, 10)
    assert values["logits"]["y"].tag == "logits"


def test_compiling_twice_gives_the_same_initial_weights() -> None:
    doc = load("spiral")
    first = compile_document(doc).state_dict()
    second = compile_document(doc).state_dict()
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    doc.set_setting("seed", 7)
    assert not np.array_equal(
        compile_document(doc).state_dict()["dense1.weight"], first["dense1.weight"]
    )


def test_invalid_document_lists_every_error() -> None:
    doc = load("digits_mlp")
    doc.disconnect("dense1", "y", "relu1", "x")
    doc.remove_node("loss")
    with pytest.raises(CompileError) as caught:
        compile_document(doc)
    error = caught.value
    assert isinstance(error, GraphError)
    assert len(error.diagnostics) >= 2
    assert "relu1" in str(error)
    assert "loss" in str(error)


def test_state_dict_round_trip_and_misfit() -> None:
    program = compile_document(load("xor"))
    state = program.state_dict()
    assert sorted(state) == ["hidden.bias", "hidden.weight", "out.bias", "out.weight"]
    changed = {k: v + 1 for k, v in state.items()}
    program.load_state_dict(changed)
    np.testing.assert_array_equal(program.state_dict()["out.bias"], state["out.bias"] + 1)
    with pytest.raises(GraphError, match=r"unknown extra\.weight"):
        program.load_state_dict({**state, "extra.weight": np.zeros(1)})
    with pytest.raises(GraphError, match=r"missing hidden\.bias"):
        program.load_state_dict({k: v for k, v in state.items() if k != "hidden.bias"})


def test_input_node_without_feed_is_a_clear_error() -> None:
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "xor"}, node_id="data")
    doc.add_node("input", {"shape": "2"}, node_id="inp")
    doc.add_node("linear", {"units": 1}, node_id="fc")
    doc.add_node("mse_loss", {}, node_id="loss")
    doc.connect("inp", "x", "fc", "x")
    doc.connect("fc", "y", "loss", "pred")
    doc.connect("data", "y", "loss", "target")
    program = compile_document(doc)
    x, y = program.dataset.x, program.dataset.y
    with pytest.raises(GraphError, match="Input node 'inp' has no batch"):
        program.forward(x, y)
    values = program.forward(x, y, feeds={"inp": x})
    assert values["fc"]["y"].shape == (4, 1)
