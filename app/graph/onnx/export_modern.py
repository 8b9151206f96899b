"""ONNX converters of the modern node types (issue 14), merged into
:data:`app.graph.onnx.export_ops.CONVERTERS`. Opset 17 has no Gelu op: GELU is written with Erf
(or Tanh for the approximation)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from app.graph.compile import CompiledNode
from app.graph.onnx.emitter import Emitter
from app.graph.onnx.export_attention import attention, causal_mask, transformer_encoder
from app.graph.onnx.export_ops import (
    Converter,
    Refusal,
    _batch_norm,
    _module,
    _state,
    gate_blocks,
)
from app.graph.specs.modern import _parse_permutation

# The engine's GRU gate blocks run r, z, n; ONNX's GRU wants z, r, h.
ENGINE_TO_ONNX_GRU = (1, 0, 2)


def _scalar(e: Emitter, node: CompiledNode, name: str, value: float) -> str:
    return e.weight(f"{node.id}.{name}", np.float32(value))


def _gelu(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    """``0.5 x (1 + erf(x / sqrt 2))``, or the tanh form."""
    n, v = node.id, x["x"]
    if node.params["approximate"] == "tanh":
        cube = e.op("Mul", [e.op("Mul", [v, v], name=f"{n}/sq")[0], v], name=f"{n}/cube")[0]
        scaled = e.op("Mul", [cube, _scalar(e, node, "k", 0.044715)], name=f"{n}/k")[0]
        inner = e.op("Add", [v, scaled], name=f"{n}/inner")[0]
        arg = e.op("Mul", [inner, _scalar(e, node, "c", math.sqrt(2 / math.pi))], name=f"{n}/c")
        core = e.op("Tanh", arg, name=f"{n}/tanh")[0]
    else:
        arg = e.op("Mul", [v, _scalar(e, node, "inv_sqrt2", 1 / math.sqrt(2))], name=f"{n}/s")
        core = e.op("Erf", arg, name=f"{n}/erf")[0]
    plus = e.op("Add", [core, _scalar(e, node, "one", 1.0)], name=f"{n}/plus")[0]
    half = e.op("Mul", [v, _scalar(e, node, "half", 0.5)], name=f"{n}/half")[0]
    return {"y": e.op("Mul", [half, plus], name=n)[0]}


def _silu(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    gate = e.op("Sigmoid", [x["x"]], name=f"{node.id}/sigmoid")[0]
    return {"y": e.op("Mul", [x["x"], gate], name=node.id)[0]}


def _conv1d(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    state, p = _state(node), node.params
    inputs = [x["x"], e.weight(f"{node.id}.weight", state["weight"])]
    inputs.append(e.weight(f"{node.id}.bias", state["bias"]))
    attrs = {
        "kernel_shape": [p["kernel_size"]],
        "strides": [p["stride"]],
        "pads": [p["padding"]] * 2,
    }
    return {"y": e.op("Conv", inputs, name=node.id, **attrs)[0]}


def _avg_pool(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    k, stride = node.params["kernel_size"], node.params["stride"]
    y = e.op("AveragePool", [x["x"]], name=node.id, kernel_shape=[k, k], strides=[stride] * 2)
    return {"y": y[0]}


def _global_pool(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    pooled = e.op("GlobalAveragePool", [x["x"]], name=f"{node.id}/pool")
    return {"y": e.op("Flatten", pooled, name=node.id, axis=1)[0]}


def _permute(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    perm = list(_parse_permutation(node.params["dims"]))
    return {"y": e.op("Transpose", [x["x"]], name=node.id, perm=perm)[0]}


def _gru(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    """ONNX's GRU with ``linear_before_reset=1`` (PyTorch's equations), between Transposes."""
    state, hidden = _state(node), int(node.params["hidden"])
    w = gate_blocks(state["weight_ih"].T, ENGINE_TO_ONNX_GRU)[None]
    r = gate_blocks(state["weight_hh"].T, ENGINE_TO_ONNX_GRU)[None]
    b_ih = gate_blocks(state["bias_ih"], ENGINE_TO_ONNX_GRU)
    b_hh = gate_blocks(state["bias_hh"], ENGINE_TO_ONNX_GRU)
    bias = np.concatenate([b_ih, b_hh])[None]
    time_major = e.op("Transpose", [x["x"]], name=f"{node.id}/time_major", perm=[1, 0, 2])
    weights = [e.weight(f"{node.id}.{n}", a) for n, a in (("W", w), ("R", r), ("B", bias))]
    y = e.op(
        "GRU",
        [time_major[0], *weights],
        name=node.id,
        outputs=("Y",),
        hidden_size=hidden,
        linear_before_reset=1,
    )
    axis = e.ints(f"{node.id}.squeeze_axes", [1])
    steps = e.op("Squeeze", [y[0], axis], name=f"{node.id}/squeeze")
    return {"y": e.op("Transpose", steps, name=f"{node.id}/batch_first", perm=[1, 0, 2])[0]}


def _positional(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    steps = int(node.in_shapes["x"][1] or _module(node).max_len)
    table = e.weight(f"{node.id}.weight", _state(node)["weight"][:steps])
    return {"y": e.op("Add", [x["x"], table], name=node.id)[0]}


MODERN_CONVERTERS: dict[str, Converter | Refusal] = {
    "gelu": _gelu,
    "silu": _silu,
    "conv1d": _conv1d,
    "avg_pool2d": _avg_pool,
    "global_avg_pool2d": _global_pool,
    "batch_norm2d": _batch_norm,
    "gru": _gru,
    "permute": _permute,
    "positional_embedding": _positional,
    "multihead_attention": attention,
    "causal_mask": causal_mask,
    "transformer_encoder": transformer_encoder,
}
