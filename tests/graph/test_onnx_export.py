"""ONNX out: every node type exports (or refuses with a reason); ONNX Runtime equals the engine."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_cases import engine_output, feeds, run_onnx, single_node_graph

from app.graph import io
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.onnx import OnnxExportError, compile_for_inference, export_onnx
from app.graph.onnx.emitter import OPSET
from app.graph.onnx.export_ops import CONVERTERS, HANDLED_ROLES, Refusal
from app.graph.specs import NodeSpec, all_specs
from engine.data import split

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECS = [pytest.param(spec, id=spec.type_id) for spec in all_specs()]


@pytest.mark.parametrize("spec", SPECS)
def test_every_node_type_exports_or_refuses(spec: NodeSpec) -> None:
    """A type added without a converter (or an explicit refusal) fails here."""
    if spec.role in HANDLED_ROLES:
        assert spec.type_id not in CONVERTERS  # graph input, or left out of the model
        return
    assert spec.type_id in CONVERTERS, f"{spec.type_id} has no ONNX converter nor a Refusal"
    doc = single_node_graph(spec)
    converter = CONVERTERS[spec.type_id]
    if isinstance(converter, Refusal):
        with pytest.raises(
            OnnxExportError, match=f"'node'.*{re.escape(converter.reason[:20])}"
        ) as caught:
            export_onnx(doc)
        assert caught.value.node_id == "node"
        return
    assert_onnx_matches_engine(doc)


def assert_onnx_matches_engine(doc: GraphDocument) -> None:
    model = export_onnx(doc)
    inputs = feeds(compile_for_inference(doc))
    named = {"input" if i == 0 else f"input_{k}": v for i, (k, v) in enumerate(inputs.items())}
    np.testing.assert_allclose(
        run_onnx(model.SerializeToString(), named), engine_output(doc, inputs), atol=1e-4, rtol=1e-4
    )


VARIANTS = [
    ("rnn", {"activation": "relu"}),
    ("rnn", {"activation": "sigmoid"}),
    ("linear", {"bias": False}),
    ("sum", {"dim": 1, "keepdims": True}),
    ("mean", {"all": True}),
    ("softmax", {"dim": 1}),
    ("conv2d", {"stride": 2, "padding": 1, "kernel_size": 2}),
    ("reshape", {"shape": "2,-1"}),
    ("multihead_attention", {"causal": True, "bias": False, "heads": 2}),
    ("transformer_encoder", {"norm_first": False, "causal": True}),
]


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_exports(causal: bool) -> None:
    doc = GraphDocument()
    doc.add_node("input", {"shape": "5,8"}, node_id="in0")
    doc.add_node("multihead_attention", {"causal": causal, "heads": 4}, node_id="att")
    doc.add_node("output", node_id="out")
    doc.connect("in0", "x", "att", "x")
    doc.connect("att", "y", "out", "x")
    rng = np.random.default_rng(2)
    program = compile_for_inference(doc)
    state = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in program.state_dict().items()}
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    program.load_state_dict(state)
    values = program.forward(x, x, {"in0": x})
    expected = program.prediction(values).numpy()  # type: ignore[union-attr]
    got = run_onnx(export_onnx(doc, state).SerializeToString(), {"input": x})
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(("type_id", "params"), VARIANTS, ids=[f"{t}-{p}" for t, p in VARIANTS])
def test_parameter_variants_export(type_id: str, params: dict[str, object]) -> None:
    spec = next(s for s in all_specs() if s.type_id == type_id)
    assert_onnx_matches_engine(single_node_graph(spec, params))


def test_a_sequence_linear_uses_matmul_and_add() -> None:
    spec = next(s for s in all_specs() if s.type_id == "linear")
    doc = single_node_graph(spec)
    doc.set_param("in0", "shape", "5,4")
    assert [n.op_type for n in export_onnx(doc).graph.node] == ["MatMul", "Add"]
    assert_onnx_matches_engine(doc)


@pytest.mark.parametrize("name", ["xor", "digits_mlp", "digits_cnn", "char_lstm", "sine_lstm"])
def test_examples_match_the_engine_on_validation_inputs(name: str, tmp_path: Path) -> None:
    doc = io.load(EXAMPLES / f"{name}.nodegrad")
    program = compile_document(doc)
    rng = np.random.default_rng(1)
    trained = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in program.state_dict().items()}
    model = export_onnx(doc, trained)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET >= 17
    # the IR version of the opset (8 for 17), not the newest the installed onnx writes: a
    # runtime older than onnx loads the file (ONNX Runtime 1.30 refused onnx 1.23's IR 14)
    assert model.ir_version == onnx.helper.find_min_ir_version_for(model.opset_import) == 8
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["output"]
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}
    program.load_state_dict(trained)
    program.eval()
    assert program.dataset is not None
    val = program.dataset  # xor has no validation split: its four samples
    if doc.training.val_split:
        val = split(val, doc.training.val_split, seed=doc.training.seed)[1]
    x, y = val.x, val.y
    values = program.forward(x, y)
    expected = program.prediction(values).numpy()  # type: ignore[union-attr]
    dtype = model.graph.input[0].type.tensor_type.elem_type
    feed = x.astype(np.int64 if dtype == onnx.TensorProto.INT64 else np.float32)
    got = run_onnx(model.SerializeToString(), {"input": feed})
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_a_refused_node_is_named_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONVERTERS, "relu", Refusal("no reason at all"))
    doc = single_node_graph(next(s for s in all_specs() if s.type_id == "relu"))
    with pytest.raises(OnnxExportError, match=r"node 'node' \(ReLU\).*no reason at all"):
        export_onnx(doc)


def test_a_graph_without_a_prediction_is_refused() -> None:
    doc = GraphDocument()
    doc.add_node("input", {"shape": "3"}, node_id="in")
    doc.add_node("relu", node_id="r")
    doc.connect("in", "x", "r", "x")
    with pytest.raises(OnnxExportError, match="Output node"):
        export_onnx(doc)


def test_reading_the_targets_is_refused() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    out = next(n for n in doc.nodes.values() if n.type_id == "output")
    data = next(n for n in doc.nodes.values() if n.type_id == "dataset")
    edge = doc.input_edge(out.id, "x")
    assert edge is not None
    doc.disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    doc.connect(data.id, "y", out.id, "x")
    with pytest.raises(OnnxExportError, match="targets"):
        export_onnx(doc)
