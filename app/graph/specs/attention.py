"""Transformer node types: Multi-head attention, Positional embedding and the Transformer encoder
layer, all over N×T×E sequences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs import modern  # noqa: F401  (registered first: the palette order)
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import call_module, engine, features
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

P = Mapping[str, Any]
SEQ_IN = PortSpec("x", help="a batch of sequences N×T×E")
SEQ_OUT = (PortSpec("y", help="a sequence of the same shape N×T×E"),)

HEADS = ParamSpec(
    "heads", ParamType.INT, 4, minimum=1, maximum=256, help="attention heads (dividing E)"
)
CAUSAL = ParamSpec(
    "causal", ParamType.BOOL, False, help="each step sees only itself and earlier steps"
)
DROPOUT = ParamSpec(
    "dropout", ParamType.FLOAT, 0.0, minimum=0.0, maximum=0.9, help="dropout while training"
)

# PyTorch counterparts written into exported scripts: they take the engine layers' arguments.
TORCH_ATTENTION = '''class MultiHeadAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention called as the engine's layer: self-attention without key and
    value, an optional causal mask, the output only."""

    def forward(self, query, key=None, value=None, causal=False):
        key = query if key is None else key
        value = key if value is None else value
        mask = None
        if causal:
            ones = torch.ones(query.shape[1], key.shape[1], dtype=torch.bool, device=query.device)
            mask = torch.triu(ones, 1)
        return super().forward(query, key, value, need_weights=False, attn_mask=mask)[0]'''

TORCH_POSITIONAL = '''class PositionalEmbedding(nn.Module):
    """A learned vector per position, added to the input (as the engine's layer)."""

    def __init__(self, max_len, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, dim) * 0.02)

    def forward(self, x):
        return x + self.weight[: x.shape[1]]'''

TORCH_ENCODER = '''class TransformerEncoderLayer(nn.TransformerEncoderLayer):
    """nn.TransformerEncoderLayer with GELU, batch first and an optional causal mask."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, norm_first, causal):
        super().__init__(
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=norm_first,
        )
        self.causal = causal

    def forward(self, x):
        if not self.causal:
            return super().forward(x)
        steps = x.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(steps, x.device, x.dtype)
        return super().forward(x, src_mask=mask, is_causal=True)'''


def _sequence(title: str, x: Shape, port: str = "x") -> int:
    """The E of an N×T×E input; a located error with the fix otherwise."""
    if len(x) != 3:
        fix = "add a Reshape or feed a sequence" if len(x) < 3 else "add a Reshape to T,E"
        raise ShapeError(f"{title} expects N×T×E, got {fmt(x)}; {fix}", port=port)
    return features(x)


def _divisible(what: str, e: int, heads: int) -> None:
    if e % heads:
        lower, upper = e - e % heads, e - e % heads + heads
        fix = f"use {lower} or {upper}" if lower else f"use {upper}"
        raise ShapeError(
            f"{what} {e} is not divisible by {heads} heads; {fix}, or change heads", port="x"
        )


def _infer_attention(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    e = _sequence("Multi-head attention", x)
    _divisible("embed_dim", e, params["heads"])
    if "kv" in s:
        e_kv = _sequence("Multi-head attention", s["kv"], port="kv")
        if e_kv != e:
            raise ShapeError(
                f"Multi-head attention: keys/values have {e_kv} features but the query has {e}; "
                f"add a Linear with {e} units before kv",
                port="kv",
            )
    return {"y": tuple(x)}


def _attention_count(p: P, s: Shapes) -> int:
    e = features(s["x"])
    return 4 * e * e + (4 * e if p["bias"] else 0)


def _forward_attention(module: Any, p: P, inputs: Mapping[str, Any]) -> dict[str, Any]:
    kv = inputs.get("kv")
    return {"y": module(inputs["x"], kv, kv, causal=p["causal"])}


register(
    NodeSpec(
        "multihead_attention",
        "Multi-head attention",
        Category.LAYERS,
        "Each step of x gathers the values of the steps it attends to (x itself, or kv when "
        "wired), weighted by query·key similarity, in several heads.",
        Role.LAYER,
        infer=_infer_attention,
        inputs=(
            SEQ_IN,
            PortSpec("kv", optional=True, help="keys and values N×S×E (x itself when unwired)"),
        ),
        outputs=SEQ_OUT,
        params=(
            HEADS,
            CAUSAL,
            ParamSpec("bias", ParamType.BOOL, True, help="learned biases on the projections"),
            DROPOUT,
        ),
        build=lambda p, s: engine().MultiHeadAttention(
            features(s["x"]), p["heads"], bias=p["bias"], dropout=p["dropout"]
        ),
        forward=_forward_attention,
        example={"x": (None, 5, 8), "kv": (None, 6, 8)},
        engine_code=CodeTemplate(
            "MultiHeadAttention({embed_dim}, {heads}, bias={bias}, dropout={dropout})",
            "self.{name}({x}, {kv}, {kv}, causal={causal})",
        ),
        torch_code=CodeTemplate(
            "MultiHeadAttention({embed_dim}, {heads}, dropout={dropout}, bias={bias}, "
            "batch_first=True)",
            "self.{name}({x}, {kv}, {kv}, causal={causal})",
            TORCH_ATTENTION,
        ),
        template_values=lambda p, s: {"embed_dim": str(features(s["x"]))},
        summarize=lambda p: f"{p['heads']} heads" + (", causal" if p["causal"] else ""),
        count=_attention_count,
    )
)


def _infer_positional(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    _sequence("Positional embedding", x)
    steps = x[1]
    if steps is not None and steps > params["max_len"]:
        raise ShapeError(
            f"Positional embedding holds {params['max_len']} positions but the sequence has "
            f"{steps} steps; raise max_len to {steps}",
            port="x",
        )
    return {"y": tuple(x)}


register(
    NodeSpec(
        "positional_embedding",
        "Positional embedding",
        Category.LAYERS,
        "Adds a learned vector per position to a sequence, so attention can tell steps apart.",
        Role.LAYER,
        infer=_infer_positional,
        inputs=(SEQ_IN,),
        outputs=SEQ_OUT,
        params=(
            ParamSpec(
                "max_len",
                ParamType.INT,
                128,
                minimum=1,
                maximum=100_000,
                help="the longest sequence it accepts",
            ),
        ),
        build=lambda p, s: engine().PositionalEmbedding(p["max_len"], features(s["x"])),
        forward=call_module(),
        example={"x": (None, 5, 8)},
        engine_code=CodeTemplate("PositionalEmbedding({max_len}, {dim})", "self.{name}({x})"),
        torch_code=CodeTemplate(
            "PositionalEmbedding({max_len}, {dim})", "self.{name}({x})", TORCH_POSITIONAL
        ),
        template_values=lambda p, s: {"dim": str(features(s["x"]))},
        summarize=lambda p: f"max {p['max_len']}",
        count=lambda p, s: p["max_len"] * features(s["x"]),
    )
)


def _infer_encoder(params: P, s: Shapes) -> dict[str, Shape]:
    e = _sequence("Transformer encoder layer", s["x"])
    _divisible("d_model", e, params["heads"])
    return {"y": tuple(s["x"])}


def _encoder_count(p: P, s: Shapes) -> int:
    e, ff = features(s["x"]), int(p["dim_feedforward"])
    return 4 * e * e + 4 * e + 2 * e * ff + ff + e + 4 * e


_ENCODER_ARGS = (
    "{d_model}, {heads}, dim_feedforward={dim_feedforward}, dropout={dropout}, "
    "norm_first={norm_first}, causal={causal}"
)
register(
    NodeSpec(
        "transformer_encoder",
        "Transformer encoder layer",
        Category.LAYERS,
        "Self-attention then a GELU feed-forward block, each added back to its input (with "
        "LayerNorm); causal for language models.",
        Role.LAYER,
        infer=_infer_encoder,
        inputs=(SEQ_IN,),
        outputs=SEQ_OUT,
        params=(
            HEADS,
            ParamSpec(
                "dim_feedforward",
                ParamType.INT,
                256,
                minimum=1,
                maximum=100_000,
                help="hidden size of the feed-forward block",
            ),
            DROPOUT,
            ParamSpec(
                "norm_first", ParamType.BOOL, True, help="LayerNorm before each block (pre-norm)"
            ),
            CAUSAL,
        ),
        build=lambda p, s: engine().TransformerEncoderLayer(
            features(s["x"]),
            p["heads"],
            dim_feedforward=p["dim_feedforward"],
            dropout=p["dropout"],
            norm_first=p["norm_first"],
            causal=p["causal"],
        ),
        forward=call_module(),
        example={"x": (None, 5, 8)},
        engine_code=CodeTemplate(f"TransformerEncoderLayer({_ENCODER_ARGS})", "self.{name}({x})"),
        torch_code=CodeTemplate(
            f"TransformerEncoderLayer({_ENCODER_ARGS})", "self.{name}({x})", TORCH_ENCODER
        ),
        template_values=lambda p, s: {"d_model": str(features(s["x"]))},
        summarize=lambda p: (
            f"{p['heads']} heads, ff {p['dim_feedforward']}" + (", causal" if p["causal"] else "")
        ),
        count=_encoder_count,
    )
)
