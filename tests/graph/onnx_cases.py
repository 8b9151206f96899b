"""Graphs the ONNX tests share: one node of a type fed by Input (and Constant) nodes."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort

from app.graph.compile import Program
from app.graph.document import GraphDocument
from app.graph.onnx import compile_for_inference
from app.graph.specs import NodeSpec, PortKind


def single_node_graph(spec: NodeSpec, params: dict[str, Any] | None = None) -> GraphDocument:
    """Input -> the node (at its example shapes) -> Output; batch-free inputs from Constants."""
    doc = GraphDocument()
    doc.add_node(spec.type_id, params, node_id="node")
    sources: dict[tuple[Any, ...], str] = {}
    for port, shape in spec.example_inputs().items():
        kind = spec.input(port).kind  # type: ignore[union-attr]
        key = (shape, kind)
        if key not in sources:
            sources[key] = _source(doc, shape, kind, len(sources))
        doc.connect(sources[key], "x" if shape[:1] == (None,) else "y", "node", port)
    doc.add_node("output", node_id="out")
    if not spec.inputs:  # a source (Constant): added to a fed batch so the model has an input
        doc.add_node("input", {"shape": "1"}, node_id="in0")
        doc.add_node("add", node_id="join")
        doc.connect("in0", "x", "join", "a")
        doc.connect("node", spec.outputs[0].name, "join", "b")
        doc.connect("join", "y", "out", "x")
        return doc
    doc.connect("node", spec.outputs[0].name, "out", "x")
    return doc


def _source(doc: GraphDocument, shape: tuple[Any, ...], kind: PortKind, n: int) -> str:
    dims = ",".join(str(d) for d in shape[1:] if d is not None)
    if shape[:1] == (None,):
        dtype = "int" if kind is PortKind.INDICES else "float"
        doc.add_node("input", {"shape": dims, "dtype": dtype}, node_id=f"in{n}")
        return f"in{n}"
    doc.add_node("constant", {"shape": ",".join(map(str, shape)), "value": 0.5}, node_id=f"c{n}")
    return f"c{n}"


def feeds(program: Program, batch: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Random values for every Input node of ``program`` (small integers for int inputs)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for node_id, node in program.nodes.items():
        if node.spec.type_id != "input":
            continue
        shape = (batch, *(int(d) for d in node.out_shapes["x"][1:]))
        if node.params["dtype"] == "int":
            out[node_id] = rng.integers(0, 2, size=shape).astype(np.int64)
        else:
            out[node_id] = rng.standard_normal(shape).astype(np.float32)
    return out


def engine_output(doc: GraphDocument, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The value the Output node reads, computed by the engine in evaluation mode."""
    program = compile_for_inference(doc)
    first = next(iter(inputs.values()))
    values = program.forward(first, first, inputs)
    prediction = program.prediction(values)
    assert prediction is not None
    return prediction.numpy()


def run_onnx(model_bytes: bytes, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Run a serialised model on ONNX Runtime (CPU); ``inputs`` by graph input name."""
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, inputs)[0])
