"""Multi-head attention written with ONNX's standard ops (opset 17 has no attention op).

Per head: ``softmax(q·kᵀ/√d (+ a causal mask)) · v`` after the input projections, then the
output projection, exactly as :class:`engine.nn.attention.MultiHeadAttention` computes it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.graph.compile import CompiledNode
from app.graph.onnx.emitter import Emitter
from app.graph.onnx.export_ops import _module, _state


def _project(
    e: Emitter, node: CompiledNode, x: str, state: Mapping[str, np.ndarray], part: int, tag: str
) -> str:
    """Block ``part`` (0 query, 1 key, 2 value) of the input projection of ``x``, split into
    heads: (N, heads, T, d)."""
    module = _module(node)
    size, heads = module.embed_dim, module.num_heads
    block = slice(part * size, (part + 1) * size)
    n = f"{node.id}/{tag}"
    y = e.op("MatMul", [x, e.weight(f"{node.id}.{tag}_weight", state["in_proj_weight"][:, block])],
             name=n)[0]  # fmt: skip
    if "in_proj_bias" in state:
        bias = e.weight(f"{node.id}.{tag}_bias", state["in_proj_bias"][block])
        y = e.op("Add", [y, bias], name=f"{n}_bias")[0]
    split = e.ints(f"{node.id}.{tag}_heads", [0, 0, heads, size // heads])
    y = e.op("Reshape", [y, split], name=f"{n}_split")[0]
    return e.op("Transpose", [y], name=f"{n}_heads", perm=[0, 2, 1, 3])[0]


def attention(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    """Self-attention on ``x`` (or attention to ``kv``), optionally causal."""
    module, state = _module(node), _state(node)
    source = x.get("kv", x["x"])
    q = _project(e, node, x["x"], state, 0, "query")
    k = _project(e, node, source, state, 1, "key")
    v = _project(e, node, source, state, 2, "value")
    scale = e.weight(f"{node.id}.scale", np.float32(1.0 / math.sqrt(module.head_dim)))
    q = e.op("Mul", [q, scale], name=f"{node.id}/scale")[0]
    keys_t = e.op("Transpose", [k], name=f"{node.id}/keys_t", perm=[0, 1, 3, 2])[0]
    scores = e.op("MatMul", [q, keys_t], name=f"{node.id}/scores")[0]
    if node.params["causal"]:
        steps = int(node.in_shapes["x"][1] or 1)
        sources = int(node.in_shapes.get("kv", node.in_shapes["x"])[1] or 1)
        scores = _add_causal(e, node.id, f"{node.id}/causal", scores, steps, sources)
    weights = e.op("Softmax", [scores], name=f"{node.id}/softmax", axis=-1)[0]
    mixed = e.op("MatMul", [weights, v], name=f"{node.id}/mix")[0]
    mixed = e.op("Transpose", [mixed], name=f"{node.id}/merge_t", perm=[0, 2, 1, 3])[0]
    merge = e.ints(f"{node.id}.merge_shape", [0, 0, module.embed_dim])
    mixed = e.op("Reshape", [mixed, merge], name=f"{node.id}/merge")[0]
    out_w = e.weight(f"{node.id}.out_proj.weight", state["out_proj.weight"])
    y = e.op(
        "MatMul", [mixed, out_w], name=f"{node.id}/out" if "out_proj.bias" in state else node.id
    )
    if "out_proj.bias" not in state:
        return {"y": y[0]}
    out_b = e.weight(f"{node.id}.out_proj.bias", state["out_proj.bias"])
    return {"y": e.op("Add", [y[0], out_b], name=node.id)[0]}


def _add_causal(e: Emitter, key: str, name: str, scores: str, rows: int, cols: int) -> str:
    """``scores`` plus a rows×cols table that is -inf above the diagonal (0 elsewhere)."""
    hidden = np.triu(np.ones((rows, cols), dtype=bool), 1)
    mask = e.weight(f"{key}.causal_mask", np.where(hidden, -np.inf, 0.0))
    out: str = e.op("Add", [scores, mask], name=name)[0]
    return out


def causal_mask(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    """The Causal mask node: an Add of its -inf table (the ONNX importer reads it back)."""
    rows, cols = (int(d or 1) for d in node.in_shapes["x"][-2:])
    return {"y": _add_causal(e, node.id, node.id, x["x"], rows, cols)}


def _part(node: CompiledNode, name: str, module: Any, params: dict[str, Any]) -> CompiledNode:
    """A sub-layer of ``node`` as a node of its own, for the converters of its kind."""
    return dataclasses.replace(node, id=f"{node.id}/{name}", module=module, params=params)


def transformer_encoder(e: Emitter, node: CompiledNode, x: Mapping[str, str]) -> dict[str, str]:
    """The encoder layer from its parts: self-attention and a GELU feed-forward block, each
    with a residual connection and a LayerNorm before (``norm_first``) or after it."""
    from app.graph.onnx.export_modern import _gelu
    from app.graph.onnx.export_ops import _layer_norm, _linear

    layer = _module(node)

    def run(part: str, convert: Any, module: Any, value: str, **params: Any) -> str:
        out: str = convert(e, _part(node, part, module, params), {"x": value})["y"]
        return out

    def attend(value: str) -> str:
        return run("self_attn", attention, layer.self_attn, value, causal=layer.causal)

    def feed_forward(value: str) -> str:
        hidden = run("linear1", _linear, layer.linear1, value)
        hidden = run("gelu", _gelu, None, hidden, approximate=layer.activation.approximate)
        return run("linear2", _linear, layer.linear2, hidden)

    def norm(part: str, value: str) -> str:
        return run(part, _layer_norm, getattr(layer, part), value)

    def add(part: str, a: str, b: str) -> str:
        return e.op("Add", [a, b], name=f"{node.id}/{part}")[0]

    src = x["x"]
    if layer.norm_first:
        mid = add("residual1", src, attend(norm("norm1", src)))
        return {"y": add("residual2", mid, feed_forward(norm("norm2", mid)))}
    mid = norm("norm1", add("residual1", src, attend(src)))
    return {"y": norm("norm2", add("residual2", mid, feed_forward(mid)))}
