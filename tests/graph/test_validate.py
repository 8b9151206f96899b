"""Validation: loops, unconnected inputs, missing loss or data, reachability, kinds, shapes."""

from __future__ import annotations

from typing import Any

import pytest

from app.graph.document import GraphDocument
from app.graph.validate import Severity, ValidationResult, build_graph, format_shape, validate


def chain(doc: GraphDocument, *steps: tuple[str, dict[str, Any]]) -> list[str]:
    """Add nodes wired one after another (first output into first input); return their ids."""
    ids: list[str] = []
    for type_id, params in steps:
        node_id = doc.new_node_id(type_id)
        doc.add_node(type_id, params, node_id=node_id)
        if ids:
            prev = doc.nodes[ids[-1]].spec
            doc.connect(
                ids[-1], prev.outputs[0].name, node_id, doc.nodes[node_id].spec.inputs[0].name
            )
        ids.append(node_id)
    return ids


def classifier(dataset: dict[str, Any], *layers: tuple[str, dict[str, Any]]) -> GraphDocument:
    doc = GraphDocument()
    ids = chain(doc, ("dataset", dataset), *layers, ("cross_entropy_loss", {}))
    doc.connect(ids[0], "y", ids[-1], "target")
    return doc


def messages(result: ValidationResult, node_id: str | None = None) -> list[str]:
    found = result.diagnostics if node_id is None else result.for_node(node_id)
    return [d.message for d in found]


def test_a_valid_mlp_gets_every_shape() -> None:
    doc = classifier(
        {"name": "spiral"}, ("linear", {"units": 8}), ("relu", {}), ("linear", {"units": 3})
    )
    doc.add_node("output")
    doc.connect("linear_2", "y", "output_1", "x")
    result = validate(doc)
    assert result.ok and result.diagnostics == []
    assert result.order == [
        "dataset_1",
        "linear_1",
        "relu_1",
        "linear_2",
        "cross_entropy_loss_1",
        "output_1",
    ]
    assert result.shapes[("linear_1", "y")] == (None, 8)
    assert result.shapes[("cross_entropy_loss_1", "loss")] == ()
    edge = doc.input_edge("relu_1", "x")
    assert edge is not None and format_shape(result.edge_shape(edge)) == "N×8"


def test_the_digits_cnn_infers_channels_and_sizes() -> None:
    doc = classifier(
        {"name": "digits", "images": True},
        ("conv2d", {"out_channels": 4}),
        ("relu", {}),
        ("max_pool2d", {}),
        ("flatten", {}),
        ("linear", {"units": 10}),
    )
    result = validate(doc)
    assert result.ok, messages(result)
    assert result.shapes[("conv2d_1", "y")] == (None, 4, 6, 6)
    assert result.shapes[("flatten_1", "y")] == (None, 36)


def test_a_missing_flatten_is_named_with_both_shapes_and_the_fix() -> None:
    doc = classifier({"name": "digits", "images": True}, ("linear", {"units": 10}))
    result = validate(doc)
    assert messages(result, "linear_1") == [
        "Linear expects N×F features (or N×T×F sequences), got N×1×8×8; add a Flatten before "
        "the Linear to get N×64"
    ]
    assert result.for_node("linear_1")[0].port == "x"
    assert ("linear_1", "y") not in result.shapes


def test_a_loop_names_its_nodes() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 3}))
    data = doc.to_dict()
    data["nodes"] += [{"id": i, "type": t} for i, t in (("a", "relu"), ("b", "tanh"))]
    data["edges"] += [
        {"src": "a", "src_port": "y", "dst": "b", "dst_port": "x"},
        {"src": "b", "src_port": "y", "dst": "a", "dst_port": "x"},
    ]
    result = validate(GraphDocument.from_dict(data))
    assert not result.ok
    loops = [d for d in result.errors if "loop" in d.message]
    assert {d.node_id for d in loops} == {"a", "b"}
    assert "a → b → a" in loops[0].message or "b → a → b" in loops[0].message
    assert "a" not in result.order and "linear_1" in result.order


def test_unconnected_required_inputs_are_errors_on_the_port() -> None:
    doc = GraphDocument()
    chain(doc, ("dataset", {}), ("linear", {"units": 3}), ("cross_entropy_loss", {}))
    result = validate(doc)
    [problem] = result.for_node("cross_entropy_loss_1")
    assert problem.severity is Severity.ERROR and problem.port == "target"
    assert "input 'target' is not connected" in problem.message


def test_missing_loss_and_dataset_are_graph_errors() -> None:
    result = validate(GraphDocument())
    assert [d.node_id for d in result.errors] == [None, None]
    assert "no Dataset" in result.errors[0].message
    assert "no loss" in result.errors[1].message


def test_a_second_dataset_is_an_error() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 3}))
    doc.add_node("dataset")
    assert "more than one Dataset" in messages(validate(doc), "dataset_2")[0]


def test_unreachable_and_unused_nodes_are_warnings() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 3}))
    chain(doc, ("constant", {}), ("relu", {}))
    result = validate(doc)
    assert result.ok
    assert all(d.severity is Severity.WARNING for d in result.for_node("relu_1"))
    assert "reaches no loss" in messages(result, "relu_1")[0]
    data = doc.to_dict()
    data["nodes"].append({"id": "lonely", "type": "add"})
    data["nodes"].append({"id": "after", "type": "tanh"})
    data["edges"].append({"src": "lonely", "src_port": "y", "dst": "after", "dst_port": "x"})
    result = validate(GraphDocument.from_dict(data))
    assert any("not reachable from any input" in m for m in messages(result, "after"))


def test_float_targets_into_cross_entropy_get_the_fix() -> None:
    result = validate(classifier({"name": "xor"}, ("linear", {"units": 2})))
    [problem] = result.for_node("cross_entropy_loss_1")
    assert "needs integer class labels" in problem.message
    assert "use MSE loss or BCE-with-logits loss" in problem.message


def test_too_few_logits_for_the_classes() -> None:
    result = validate(classifier({"name": "spiral"}, ("linear", {"units": 2})))
    assert messages(result, "cross_entropy_loss_1") == [
        "The targets have 3 classes but the logits N×2 have 2 columns; set the units of "
        "linear_1 to 3"
    ]


def test_char_lstm_checks_vocabulary_and_sequence_logits() -> None:
    doc = classifier(
        {"name": "text", "seq_len": 12},
        ("embedding", {"vocab_size": 8}),
        ("lstm", {"hidden": 16}),
        ("linear", {"units": 200}),
    )
    result = validate(doc)
    assert "set vocab_size to at least" in messages(result, "embedding_1")[0]
    assert result.shapes[("lstm_1", "y")] == (None, 12, 16)
    assert result.shapes[("linear_1", "y")] == (None, 12, 200)
    # 200 logits for fewer characters: a warning, not an error
    assert [d.severity for d in result.for_node("cross_entropy_loss_1")] == [Severity.WARNING]


def test_mse_regression_on_sine_sequences() -> None:
    doc = GraphDocument()
    ids = chain(
        doc,
        ("dataset", {"name": "sine_sequence", "seq_len": 10}),
        ("rnn", {}),
        ("linear", {"units": 1}),
        ("mse_loss", {}),
    )
    doc.connect(ids[0], "y", ids[-1], "target")
    assert validate(doc).ok
    doc.set_param("linear_1", "units", 2)
    assert "make the layer before it output N×10×1" in messages(validate(doc), "mse_loss_1")[0]


def test_a_missing_dataset_file_is_an_error_on_the_dataset(tmp_path: Any) -> None:
    path = str(tmp_path / "none.npz")
    result = validate(classifier({"name": "npz", "path": path}, ("linear", {"units": 2})))
    [problem] = result.for_node("dataset_1")
    assert "none.npz" in problem.message and problem.port == "path"


def test_build_graph_is_a_networkx_digraph() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 3}))
    graph = build_graph(doc)
    assert set(graph.edges) == {
        ("dataset_1", "linear_1"),
        ("linear_1", "cross_entropy_loss_1"),
        ("dataset_1", "cross_entropy_loss_1"),
    }


@pytest.mark.parametrize("type_id", ["linear", "relu", "softmax", "layer_norm", "dropout"])
def test_shapes_flow_through_simple_layers(type_id: str) -> None:
    doc = classifier({"name": "iris"}, (type_id, {}), ("linear", {"units": 3}))
    result = validate(doc)
    assert result.ok, messages(result)
    assert result.shapes[("linear_1" if type_id != "linear" else "linear_2", "y")] == (None, 3)


def test_token_ids_into_a_linear_suggest_an_embedding() -> None:
    doc = classifier({"name": "text", "seq_len": 5}, ("linear", {"units": 60}))
    [warning] = validate(doc).for_node("linear_1")
    assert warning.severity is Severity.WARNING
    assert (
        warning.message == "Linear receives token ids from dataset_1.x; add an Embedding before it"
    )


def _with_wires(doc: GraphDocument, *wires: tuple[str, str, str, str]) -> GraphDocument:
    """``doc`` plus wires the document API would refuse (as a hand-edited file holds them)."""
    data = doc.to_dict()
    keys = ("src", "src_port", "dst", "dst_port")
    data["edges"] += [dict(zip(keys, w, strict=True)) for w in wires]
    return GraphDocument.from_dict(data)


def _broken_documents(tmp_path: Any) -> dict[str, GraphDocument]:
    """One document per kind of problem the validator reports."""
    loop = classifier({"name": "spiral"}, ("linear", {"units": 8}), ("relu", {}))
    loop.disconnect("dataset_1", "x", "linear_1", "x")
    two = classifier({"name": "spiral"}, ("linear", {"units": 3}))
    for type_id in ("dataset", "output", "output", "relu"):
        two.add_node(type_id)
    missing = GraphDocument()
    missing.add_node("dataset", {"name": "csv", "path": str(tmp_path / "absent.csv")})
    return {
        "empty": GraphDocument(),
        "loop": _with_wires(loop, ("relu_1", "y", "linear_1", "x")),
        "two datasets and outputs": two,
        "missing file": missing,
        "no file": classifier({"name": "csv"}, ("linear", {"units": 3})),
        "flatten": classifier({"name": "digits", "images": True}, ("linear", {"units": 10})),
        "classes": classifier({"name": "spiral"}, ("linear", {"units": 2})),
        "float targets": classifier({"name": "sine_sequence"}, ("linear", {"units": 1})),
    }


def test_every_diagnostic_is_a_sentence_starting_with_a_capital(tmp_path: Any) -> None:
    seen = 0
    for name, doc in _broken_documents(tmp_path).items():
        for message in messages(validate(doc)):
            seen += 1
            assert message[:1].isupper(), f"{name}: {message!r} starts in lowercase"
    assert seen >= 15


def test_an_unconnected_input_says_what_it_takes_without_nested_brackets() -> None:
    doc = GraphDocument()
    doc.add_node("output")
    doc.add_node("add")
    found = messages(validate(doc))
    assert "Output: input 'x' is not connected; it takes the prediction (logits, " in found[2]
    assert "Add: input 'a' is not connected; it takes the left operand" in found
