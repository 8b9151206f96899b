"""Read an ONNX model into a laid-out graph with its weights (``nodegrad import MODEL.onnx``).

The model's input becomes an Input node, its output feeds an Output node, and each ONNX node
goes through its entry in :data:`~app.graph.onnx.import_ops.IMPORTERS`. Every problem is
collected first: an unsupported model gets one message listing each unsupported operator with
its count (and each unsupported configuration with its node); nothing is written until the whole
model has been imported and checked to run.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.onnx.import_base import OnnxNode
from app.graph.onnx.import_elementwise import materialize
from app.graph.onnx.import_ops import IMPORTERS, READS_EXPRESSIONS
from app.graph.onnx.layout import layered_positions
from app.graph.onnx.reader import OnnxImportError, default_opset, read_model
from app.graph.onnx.values import Const, Plan, Poison, Tensor, Unsupported, Value

MAX_SAMPLE_VALUES = 100_000_000
Weights = dict[str, np.ndarray]


def import_onnx(path: str | os.PathLike[str]) -> tuple[GraphDocument, Weights]:
    """The graph and weights (``"node_id.name"`` -> array) of the ONNX model in ``path``.

    Raises
    ------
    OnnxImportError
        One message: the file cannot be read or checked, or the operators (with counts) and
        configurations that cannot be imported.
    """
    name = os.fspath(path)
    return import_model(read_model(name), name)


def import_model(model: onnx.ModelProto, name: str = "model") -> tuple[GraphDocument, Weights]:
    """The graph and weights of a parsed, checked model (see :func:`import_onnx`)."""
    graph, opset = model.graph, default_opset(model)
    values: dict[str, Value] = {t.name: Const(numpy_helper.to_array(t)) for t in graph.initializer}
    plan = Plan()
    feeds = [v for v in graph.input if v.name not in values]
    if len(feeds) != 1 or len(graph.output) != 1:
        raise OnnxImportError(
            f"{name}: nodegrad imports models with one input and one output, this one has "
            f"{len(feeds)} and {len(graph.output)}"
        )
    values[feeds[0].name] = _input_node(plan, feeds[0], name)
    unsupported, problems = _convert_nodes(plan, graph, values, opset)
    result = values.get(graph.output[0].name)
    if not unsupported and not problems:
        try:
            result = materialize(plan, result)
        except Unsupported as error:
            problems.append(f"the output: {error.message}")
    if not unsupported and not problems and not isinstance(result, Tensor):
        problems.append(f"the output {graph.output[0].name!r} is not a computed tensor")
    _raise_problems(name, unsupported, problems)
    assert isinstance(result, Tensor)
    try:
        plan.add("output", {}, {"x": result}, name="output")
    except Unsupported as error:
        raise OnnxImportError(f"{name}: the output: {error.message}") from None
    return _document(plan, name)


def _input_node(plan: Plan, info: onnx.ValueInfoProto, name: str) -> Tensor:
    """The Input node standing for the model's input (its first dimension is the batch)."""
    tensor_type = info.type.tensor_type
    kinds: dict[int, str] = {onnx.TensorProto.FLOAT: "float", onnx.TensorProto.INT64: "int"}
    kinds[onnx.TensorProto.INT32] = "int"
    if tensor_type.elem_type not in kinds:
        raise OnnxImportError(f"{name}: the input {info.name!r} must be float32 or int64")
    dims = list(tensor_type.shape.dim)[1:]
    sizes = [d.dim_value if d.HasField("dim_value") else 0 for d in dims]
    if not dims or min(sizes) < 1 or int(np.prod(sizes)) > MAX_SAMPLE_VALUES:
        raise OnnxImportError(
            f"{name}: the input {info.name!r} needs a batch dimension and fixed sizes after it "
            f"(at most {MAX_SAMPLE_VALUES:,} values per sample)"
        )
    params = {"shape": ",".join(map(str, sizes)), "dtype": kinds[tensor_type.elem_type]}
    return plan.add("input", params, {}, name="input")


def _convert_nodes(
    plan: Plan, graph: onnx.GraphProto, values: dict[str, Value], opset: int
) -> tuple[Counter[str], list[str]]:
    """Run every node's converter; returns the unsupported operators and the problems."""
    uses = Counter(n for node in graph.node for n in node.input)
    uses.update(o.name for o in graph.output)
    unsupported: Counter[str] = Counter()
    problems: list[str] = []
    for index, proto in enumerate(graph.node):
        domain = proto.domain if proto.domain not in ("", "ai.onnx") else ""
        converter = None if domain else IMPORTERS.get(proto.op_type)
        outs: list[Value] = []
        inputs = [values.get(n, Poison()) if n else None for n in proto.input]
        where = f"node {proto.name or index!r} ({proto.op_type})"
        reasons = [v.reason for v in inputs if isinstance(v, Poison) and v.reason]
        if converter is None:
            unsupported[f"{domain}.{proto.op_type}" if domain else proto.op_type] += 1
        elif reasons:
            problems.append(f"{where}: {reasons[0]}")
        elif not any(isinstance(v, Poison) for v in inputs):
            try:
                if proto.op_type not in READS_EXPRESSIONS:
                    inputs = [materialize(plan, v) for v in inputs]
                node = OnnxNode(proto, inputs, opset, [uses[n] for n in proto.input])
                outs = converter(plan, node)
            except Unsupported as error:
                problems.append(f"{where}: {error.message}")
            except (ValueError, IndexError, TypeError, KeyError) as error:  # malformed values
                problems.append(f"{where}: malformed ({type(error).__name__}: {error})")
        for i, out in enumerate(proto.output):
            values[out] = outs[i] if i < len(outs) else Poison()
    return unsupported, problems


def _raise_problems(name: str, unsupported: Counter[str], problems: list[str]) -> None:
    """One error listing every unsupported operator with its count, then every problem."""
    if not unsupported and not problems:
        return
    parts = []
    if unsupported:
        ops = ", ".join(f"{op} ×{n}" for op, n in sorted(unsupported.items()))
        parts.append(f"unsupported operators: {ops}")
    parts.extend(problems)
    raise OnnxImportError(f"{name}: cannot import: " + "; ".join(parts))


def _document(plan: Plan, name: str) -> tuple[GraphDocument, Weights]:
    """Build the laid-out document and its weights, and check they run together."""
    from app.graph.onnx.export import compile_for_inference

    sources = {n.id: [src for src, _ in n.inputs.values()] for n in plan.nodes.values()}
    positions = layered_positions(sources)
    document = GraphDocument()
    weights: Weights = {}
    for node in plan.nodes.values():
        label = _label(node.onnx_name, node.id)
        document.add_node(node.type_id, node.params, positions[node.id], node.id, label)
        weights.update({f"{node.id}.{k}": np.asarray(v) for k, v in node.weights.items()})
    for node in plan.nodes.values():
        for port, (src, src_port) in node.inputs.items():
            document.connect(src, src_port, node.id, port)
    try:
        compile_for_inference(document, weights)
    except GraphError as error:
        reason = " ".join(str(error.message).split())
        raise OnnxImportError(f"{name}: the imported graph does not run: {reason}") from None
    return document, weights


def _label(onnx_name: str, node_id: str) -> str:
    """A label from the ONNX node's name: PyTorch's ``/encoder/fc1/Gemm`` -> ``encoder.fc1``
    (none for bare indices such as ``/0/Conv``, or when the name became the id)."""
    if onnx_name == node_id:
        return ""
    parts = [p for p in onnx_name.split("/") if p]
    if onnx_name.startswith("/") and len(parts) > 1:
        parts = parts[:-1]
    if all(p.isdigit() for p in parts):
        return ""
    return ".".join(parts)[:80]


def save_imported(document: GraphDocument, weights: Weights, path: str | os.PathLike[str]) -> Path:
    """Write the graph to ``path`` and its weights beside it (both or neither).

    Returns the weights file's path.
    """
    target = Path(path)
    weights_file = io.weights_path(target)
    io.save_weights(weights, weights_file)
    try:
        io.save(document, target)
    except BaseException:
        weights_file.unlink(missing_ok=True)
        raise
    return weights_file
