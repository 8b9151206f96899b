"""One ONNX converter per node type: :data:`CONVERTERS` maps a type id to how it is written.

A converter receives the :class:`~app.graph.onnx.emitter.Emitter`, the compiled node (its
checked parameters, engine module and input shapes) and the ONNX value feeding each connected
input port; it returns the ONNX value of each output port. A type that cannot be expressed in
ONNX gets a :class:`Refusal` saying why, so every node type has an entry (a test checks it).
Node types with the roles in :data:`HANDLED_ROLES` are never converted: the exporter turns the
data or Input node into the graph input and leaves losses and the Output node out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.graph.compile import CompiledNode
from app.graph.onnx.emitter import Emitter
from app.graph.specs import Role
from app.graph.specs.common import parse_dims

Converter = Callable[[Emitter, CompiledNode, Mapping[str, str]], dict[str, str]]
HANDLED_ROLES = (Role.DATA, Role.INPUT, Role.LOSS, Role.OUTPUT)


@dataclass(frozen=True)
class Refusal:
    """A node type the ONNX export cannot write, and why (shown with the node's id)."""

    reason: str


def _module(node: CompiledNode) -> Any:
    """The node's engine layer (every converter that reads weights has one)."""
    if node.module is None:
        raise ValueError(f"node '{node.id}' has no engine layer to read weights from")
    return node.module


def _state(node: CompiledNode) -> dict[str, np.ndarray]:
    """The node's parameters and buffers as float32 NumPy arrays, by engine name."""
    return {k: np.asarray(v, dtype=np.float32) for k, v in _module(node).state_dict().items()}


def unary(op_type: str, **attributes: Any) -> Converter:
    """An element-wise op on ``x`` with fixed attributes."""

    def convert(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
        return {"y": e.op(op_type, [x["x"]], name=node.id, **attributes)[0]}

    return convert


def binary(op_type: str) -> Converter:
    """An element-wise op on ``a`` and ``b`` (ONNX broadcasts as NumPy does)."""

    def convert(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
        return {"y": e.op(op_type, [x["a"], x["b"]], name=node.id)[0]}

    return convert


def _linear(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    state = _state(node)
    weight = e.weight(f"{node.id}.weight", state["weight"])
    bias = [e.weight(f"{node.id}.bias", state["bias"])] if "bias" in state else []
    if len(node.in_shapes["x"]) == 2:
        return {"y": e.op("Gemm", [x["x"], weight, *bias], name=node.id)[0]}
    if not bias:
        return {"y": e.op("MatMul", [x["x"], weight], name=node.id)[0]}
    product = e.op("MatMul", [x["x"], weight], name=node.id)[0]
    return {"y": e.op("Add", [product, bias[0]], name=f"{node.id}/bias")[0]}


def _conv(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    state, p = _state(node), node.params
    k, pad = p["kernel_size"], p["padding"]
    inputs = [x["x"], e.weight(f"{node.id}.weight", state["weight"])]
    inputs.append(e.weight(f"{node.id}.bias", state["bias"]))
    attrs = {"kernel_shape": [k, k], "strides": [p["stride"]] * 2, "pads": [pad] * 4}
    return {"y": e.op("Conv", inputs, name=node.id, **attrs)[0]}


def _max_pool(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    k, stride = node.params["kernel_size"], node.params["stride"]
    y = e.op("MaxPool", [x["x"]], name=node.id, kernel_shape=[k, k], strides=[stride, stride])
    return {"y": y[0]}


def _reshape(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    dims = parse_dims(node.params["shape"], allow_infer=True)
    shape = e.ints(f"{node.id}.shape", [0, *dims])  # 0: keep the batch size
    return {"y": e.op("Reshape", [x["x"], shape], name=node.id)[0]}


def _dropout(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    ratio = e.weight(f"{node.id}.ratio", np.float32(node.params["p"]))
    return {"y": e.op("Dropout", [x["x"], ratio], name=node.id)[0]}


def _batch_norm(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    state = _state(node)
    names = ("weight", "bias", "running_mean", "running_var")
    inputs = [x["x"], *(e.weight(f"{node.id}.{n}", state[n]) for n in names)]
    y = e.op("BatchNormalization", inputs, name=node.id, epsilon=float(_module(node).eps))
    return {"y": y[0]}


def _layer_norm(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    state = _state(node)
    inputs = [x["x"], *(e.weight(f"{node.id}.{n}", state[n]) for n in ("weight", "bias"))]
    y = e.op("LayerNormalization", inputs, name=node.id, axis=-1, epsilon=float(_module(node).eps))
    return {"y": y[0]}


def _embedding(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    table = e.weight(f"{node.id}.weight", _state(node)["weight"])
    return {"y": e.op("Gather", [table, x["x"]], name=node.id, axis=0)[0]}


# The engine's LSTM gate blocks run f, i, o, g; ONNX's LSTM wants i, o, f, c (= g).
ENGINE_TO_ONNX_GATES = (1, 2, 0, 3)
# The engine's GRU (as PyTorch's) runs r, z, n; ONNX's GRU wants z, r, h (= n).
ENGINE_TO_ONNX_GRU_GATES = (1, 0, 2)


def gate_blocks(matrix: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """Reorder the equal gate blocks of ``matrix``'s first axis: block ``order[i]`` goes to i."""
    blocks = np.split(matrix, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def recurrent(
    op_type: str, gates: tuple[int, ...], activation: str | None = None, **fixed: Any
) -> Converter:
    """An engine RNN, LSTM or GRU (batch first) as ONNX's time-major op between Transposes.

    Weights become ``W`` (1, G·H, F), ``R`` (1, G·H, H) and ``B`` (1, 2·G·H): the input half
    holds the engine's ``bias`` (or ``bias_ih``), the recurrent half ``bias_hh`` or zeros.
    ``fixed`` are extra attributes (a GRU's ``linear_before_reset``).
    """

    def convert(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
        state, hidden = _state(node), int(node.params["hidden"])
        w = gate_blocks(state["weight_ih"].T, gates)[None]
        r = gate_blocks(state["weight_hh"].T, gates)[None]
        b_in = gate_blocks(state["bias_ih" if "bias_ih" in state else "bias"], gates)
        b_rec = gate_blocks(state["bias_hh"], gates) if "bias_hh" in state else 0 * b_in
        bias = np.concatenate([b_in, b_rec])[None]
        attrs: dict[str, Any] = {"hidden_size": hidden, **fixed}
        if activation is not None:
            attrs["activations"] = [str(node.params[activation]).capitalize()]
        time_major = e.op("Transpose", [x["x"]], name=f"{node.id}/time_major", perm=[1, 0, 2])
        weights = [e.weight(f"{node.id}.{n}", a) for n, a in (("W", w), ("R", r), ("B", bias))]
        y = e.op(op_type, [time_major[0], *weights], name=node.id, outputs=("Y",), **attrs)
        axis = e.ints(f"{node.id}.squeeze_axes", [1])
        steps = e.op("Squeeze", [y[0], axis], name=f"{node.id}/squeeze")
        return {"y": e.op("Transpose", steps, name=f"{node.id}/batch_first", perm=[1, 0, 2])[0]}

    return convert


def _concat(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    return {"y": e.op("Concat", [x["a"], x["b"]], name=node.id, axis=node.params["dim"])[0]}


def reduce(op_type: str, axes_as_input: bool) -> Converter:
    """Sum or Mean over one dimension (or all); ``axes_as_input`` follows the op's opset rule."""

    def convert(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
        p = node.params
        if p["all"]:
            return {"y": e.op(op_type, [x["x"]], name=node.id, keepdims=0)[0]}
        keep = int(p["keepdims"])
        if axes_as_input:
            axes = e.ints(f"{node.id}.axes", [p["dim"]])
            return {"y": e.op(op_type, [x["x"], axes], name=node.id, keepdims=keep)[0]}
        return {"y": e.op(op_type, [x["x"]], name=node.id, axes=[p["dim"]], keepdims=keep)[0]}

    return convert


def _constant(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    value = np.full(parse_dims(node.params["shape"]), node.params["value"], dtype=np.float32)
    return {"y": e.weight(f"{node.id}.value", value)}


CONVERTERS: dict[str, Converter | Refusal] = {
    "constant": _constant,
    "linear": _linear,
    "conv2d": _conv,
    "max_pool2d": _max_pool,
    "flatten": unary("Flatten", axis=1),
    "reshape": _reshape,
    "dropout": _dropout,
    "batch_norm1d": _batch_norm,
    "layer_norm": _layer_norm,
    "embedding": _embedding,
    "tanh": unary("Tanh"),
    "sigmoid": unary("Sigmoid"),
    "relu": unary("Relu"),
    "leaky_relu": lambda e, n, x: unary("LeakyRelu", alpha=float(n.params["slope"]))(e, n, x),
    "softmax": lambda e, n, x: unary("Softmax", axis=int(n.params["dim"]))(e, n, x),
    "rnn": recurrent("RNN", (0,), activation="activation"),
    "lstm": recurrent("LSTM", ENGINE_TO_ONNX_GATES),
    "add": binary("Add"),
    "multiply": binary("Mul"),
    "concat": _concat,
    "matmul": binary("MatMul"),
    "sum": reduce("ReduceSum", axes_as_input=True),
    "mean": reduce("ReduceMean", axes_as_input=False),  # axes become an input at opset 18
}

# The node types of modern networks (issue 14) have their converters in their own module.
from app.graph.onnx.export_modern import MODERN_CONVERTERS  # noqa: E402

CONVERTERS.update(MODERN_CONVERTERS)
