"""Shape inference of the modern node types (issue 14): the shapes, and errors with the fix."""

from __future__ import annotations

import pytest

from app.graph.errors import ParamError, ShapeError
from app.graph.specs import get_spec


@pytest.mark.parametrize(
    ("type_id", "params", "shapes", "message"),
    [
        (
            "multihead_attention",
            {"heads": 8},
            {"x": (None, 7, 100)},
            "embed_dim 100 is not divisible by 8 heads; use 96 or 104",
        ),
        (
            "multihead_attention",
            {},
            {"x": (None, 16)},
            "Multi-head attention expects N×T×E, got N×16; add a Reshape or feed a sequence",
        ),
        (
            "multihead_attention",
            {},
            {"x": (None, 5, 8), "kv": (None, 6, 12)},
            "keys/values have 12 features but the query has 8",
        ),
        (
            "transformer_encoder",
            {"heads": 3},
            {"x": (None, 5, 2)},
            "d_model 2 is not divisible by 3 heads; use 3",
        ),
        ("transformer_encoder", {}, {"x": (None, 2, 3, 4)}, "expects N×T×E, got N×2×3×4"),
        (
            "positional_embedding",
            {"max_len": 10},
            {"x": (None, 32, 8)},
            "holds 10 positions but the sequence has 32 steps; raise max_len to 32",
        ),
        ("conv1d", {}, {"x": (None, 20)}, "Conv1d expects N×C×L .* add a Reshape to 1,20"),
        ("conv1d", {"kernel_size": 5}, {"x": (None, 1, 3)}, "window 5 does not fit the length 3"),
        ("avg_pool2d", {}, {"x": (None, 64)}, "AvgPool2d expects N×C×H×W .* Reshape to 1,8,8"),
        ("global_avg_pool2d", {}, {"x": (None, 3, 4)}, "GlobalAvgPool2d expects N×C×H×W"),
        ("batch_norm2d", {}, {"x": (None, 8)}, "BatchNorm2d expects N×C×H×W"),
        ("gru", {}, {"x": (None, 25)}, "GRU expects N×T×F .* add an Embedding"),
        ("permute", {"dims": "0,2,1,3"}, {"x": (None, 3, 4)}, "orders 4 axes but the input"),
        ("causal_mask", {}, {"x": (None, 5)}, "feed attention scores such as N×T×T"),
    ],
)
def test_shape_errors_say_the_fix(type_id: str, params: dict, shapes: dict, message: str) -> None:
    spec = get_spec(type_id)
    with pytest.raises(ShapeError, match=message):
        spec.infer({**spec.default_params(), **params}, shapes)


@pytest.mark.parametrize(
    ("type_id", "params", "shapes", "out"),
    [
        (
            "multihead_attention",
            {"heads": 2},
            {"x": (None, 5, 8), "kv": (None, 9, 8)},
            (None, 5, 8),
        ),
        ("transformer_encoder", {"heads": 2}, {"x": (None, 64, 32)}, (None, 64, 32)),
        (
            "conv1d",
            {"out_channels": 4, "stride": 2, "padding": 1},
            {"x": (None, 2, 9)},
            (None, 4, 5),
        ),
        ("avg_pool2d", {"kernel_size": 3, "stride": 1}, {"x": (None, 2, 5, 5)}, (None, 2, 3, 3)),
        ("global_avg_pool2d", {}, {"x": (None, 6, 4, 4)}, (None, 6)),
        ("permute", {"dims": "0,3,1,2"}, {"x": (None, 8, 8, 3)}, (None, 3, 8, 8)),
        ("gru", {"hidden": 7}, {"x": (None, 5, 3)}, (None, 5, 7)),
        ("causal_mask", {}, {"x": (None, 2, 6, 6)}, (None, 2, 6, 6)),
    ],
)
def test_shapes(type_id: str, params: dict, shapes: dict, out: tuple) -> None:
    spec = get_spec(type_id)
    assert spec.infer({**spec.default_params(), **params}, shapes) == {"y": out}


@pytest.mark.parametrize("dims", ["1,0,2", "0,0,1", "0,a", "0,2"])
def test_permute_refuses_bad_orders(dims: str) -> None:
    with pytest.raises(ParamError):
        get_spec("permute").param("dims").coerce(dims)


def test_add_broadcasts_for_residual_connections() -> None:
    add = get_spec("add")
    assert add.infer({}, {"a": (None, 8, 4, 4), "b": (None, 8, 1, 1)}) == {"y": (None, 8, 4, 4)}
    assert add.infer({}, {"a": (None, 5, 16), "b": (5, 16)}) == {"y": (None, 5, 16)}
