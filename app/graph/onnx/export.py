"""Write a graph's inference part as an ONNX model (``nodegrad export FILE --to onnx``).

The model holds the nodes that compute the prediction (the Output node's input, else the first
loss's prediction): the Dataset's ``x`` (or the Input node) becomes the graph input ``input``
with a dynamic batch dimension, the prediction the graph output ``output``; the Dataset, losses
and the Output node are left out. Each node is written by its entry in
:data:`~app.graph.onnx.export_ops.CONVERTERS`, with the weights the document's program holds.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from app import __version__
from app.graph.compile import CompiledNode, Program, compile_document
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.onnx.emitter import OPSET, Emitter
from app.graph.onnx.export_ops import CONVERTERS, HANDLED_ROLES, Refusal
from app.graph.specs import PortKind, Role, Shape
from app.graph.validate import validate

INPUT, OUTPUT = "input", "output"


class OnnxExportError(GraphError):
    """A graph (or one of its nodes, ``node_id``) that cannot be written as ONNX."""


def export_onnx(
    document: GraphDocument, weights: Mapping[str, np.ndarray] | None = None
) -> onnx.ModelProto:
    """The inference graph of ``document`` as a checked ONNX model.

    Parameters
    ----------
    document
        A valid graph with an Output node or a loss (what it predicts).
    weights
        Trained weights (``"node_id.name"`` -> array, as :func:`app.graph.io.load_weights`
        returns); None exports the freshly initialised ones.

    Raises
    ------
    OnnxExportError
        Naming the node that cannot be exported and why.
    CompileError
        When the graph has errors.
    """
    program = compile_for_inference(document, weights)
    target = prediction_source(program)
    nodes = _inference_nodes(program, target[0])
    if program.nodes[target[0]].role is Role.DATA and target[1] != "x":
        raise OnnxExportError("the prediction is the dataset's targets; nothing to export")
    emit = Emitter()
    values: dict[tuple[str, str], str] = {}
    inputs = _graph_inputs(program, nodes, emit, values)
    for node_id in nodes:
        node = program.nodes[node_id]
        if node.role in HANDLED_ROLES:
            continue
        fed = {port: values[src] for port, src in node.inputs.items()}
        for port, value in _convert(emit, node, fed).items():
            values[(node_id, port)] = value
    output = _graph_output(program, emit, values[target], target, inputs)
    graph = helper.make_graph(emit.nodes, "nodegrad", inputs, [output], emit.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="nodegrad",
        producer_version=__version__,
        # the oldest IR version that has the opset, not the newest the installed onnx knows:
        # a runtime older than onnx (ONNX Runtime 1.30 beside onnx 1.23) still loads the file
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def compile_for_inference(
    document: GraphDocument, weights: Mapping[str, np.ndarray] | None = None
) -> Program:
    """The document's program in evaluation mode, with ``weights`` when given.

    The graph-wide errors of validation (no Dataset, no loss) are ignored: inference needs
    neither, so a graph fed by an Input node (as an imported one is) compiles too.
    """
    result = validate(document)
    kept = [d for d in result.diagnostics if d.node_id is not None or d not in result.errors]
    program = compile_document(document, dataclasses.replace(result, diagnostics=kept))
    if weights is not None:
        program.load_state_dict(weights)
    program.eval()
    return program


def save_onnx(model: onnx.ModelProto, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` through a temporary file (no half-written file is left)."""
    from app.graph.io import _atomic_write

    data = model.SerializeToString()
    _atomic_write(Path(path), lambda handle: handle.write(data))


def prediction_source(program: Program) -> tuple[str, str]:
    """The (node, port) holding the prediction: the Output's input, else the first loss's."""
    for node_id in [program.output_node, *program.loss_nodes]:
        if node_id is not None and program.nodes[node_id].inputs:
            return next(iter(program.nodes[node_id].inputs.values()))
    raise OnnxExportError(
        "the graph has no Output node (or loss) saying what it predicts; add an Output node"
    )


def _inference_nodes(program: Program, last: str) -> list[str]:
    """The nodes ``last`` depends on (itself included), in execution order."""
    needed, stack = {last}, [last]
    while stack:
        for src, _ in program.nodes[stack.pop()].inputs.values():
            if src not in needed:
                needed.add(src)
                stack.append(src)
    return [node_id for node_id in program.order if node_id in needed]


def _graph_inputs(
    program: Program, nodes: list[str], emit: Emitter, values: dict[tuple[str, str], str]
) -> list[onnx.ValueInfoProto]:
    """Declare ``input`` (``input_<id>`` after the first) for the data node's x or each Input."""
    found: list[onnx.ValueInfoProto] = []
    for node_id in nodes:
        node = program.nodes[node_id]
        if node.role not in (Role.DATA, Role.INPUT):
            continue
        _refuse_targets(program, nodes, node_id)
        name = INPUT if not found else f"{INPUT}_{node_id}"
        emit.reserve(name)
        values[(node_id, "x")] = name
        shape = node.out_shapes["x"]
        found.append(
            helper.make_tensor_value_info(name, _dtype(program, nodes, node), _dims(shape))
        )
    if not found:
        raise OnnxExportError("the prediction does not depend on any input; nothing to export")
    return found


def _refuse_targets(program: Program, nodes: list[str], data_id: str) -> None:
    """The inference graph may read the data node's inputs ``x``, never its targets ``y``."""
    for node_id in nodes:
        for port, (src, src_port) in program.nodes[node_id].inputs.items():
            if src == data_id and src_port != "x":
                raise OnnxExportError(
                    f"node '{node_id}' reads the dataset's targets ({src_port}) on {port}; the "
                    "exported model can only read its inputs",
                    node_id,
                )


def _dtype(program: Program, nodes: list[str], source: CompiledNode) -> int:
    """int64 when an Input says so or the value feeds integer ports (Embedding), else float."""
    if source.role is Role.INPUT:
        return TensorProto.INT64 if source.params["dtype"] == "int" else TensorProto.FLOAT
    for node_id in nodes:
        node = program.nodes[node_id]
        for port, (src, _) in node.inputs.items():
            spec_port = node.spec.input(port)
            if src == source.id and spec_port is not None and spec_port.kind is PortKind.INDICES:
                return TensorProto.INT64
    return TensorProto.FLOAT


def _dims(shape: Shape) -> list[int | str]:
    return ["batch" if d is None else int(d) for d in shape]


def _convert(emit: Emitter, node: CompiledNode, inputs: dict[str, str]) -> dict[str, str]:
    """Write one node with its converter; a refusal or a missing converter names the node."""
    converter = CONVERTERS.get(node.spec.type_id)
    if converter is None:
        raise OnnxExportError(
            f"node '{node.id}' ({node.spec.title}) has no ONNX converter yet", node.id
        )
    if isinstance(converter, Refusal):
        raise OnnxExportError(
            f"node '{node.id}' ({node.spec.title}) cannot be exported to ONNX: {converter.reason}",
            node.id,
        )
    return converter(emit, node, inputs)


def _graph_output(
    program: Program,
    emit: Emitter,
    value: str,
    source: tuple[str, str],
    inputs: list[onnx.ValueInfoProto],
) -> onnx.ValueInfoProto:
    """Name the prediction ``output`` (an Identity when it is a graph input or a weight)."""
    dtype: int = TensorProto.FLOAT
    if any(value in node.output for node in emit.nodes):
        emit.rename(value, OUTPUT)
    else:
        emit.nodes.append(helper.make_node("Identity", [value], [OUTPUT], "output"))
        dtype = next((i.type.tensor_type.elem_type for i in inputs if i.name == value), dtype)
    shape = program.nodes[source[0]].out_shapes[source[1]]
    return helper.make_tensor_value_info(OUTPUT, dtype, _dims(shape))
