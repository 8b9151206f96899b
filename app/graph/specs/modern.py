"""Node types of modern networks: GELU, SiLU, Conv1d, AvgPool2d, GlobalAvgPool2d, BatchNorm2d,
GRU and Permute (attention and the transformer layer are in :mod:`app.graph.specs.attention`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs import ops  # noqa: F401  (registered first: Permute ends the section)
from app.graph.specs.activations import activation
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
from app.graph.specs.common import call_module, engine, features, in_features
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.layers import _need_image, layer, pool2d
from app.graph.specs.recurrent import HIDDEN, _sequence_infer
from app.graph.specs.registry import register

P = Mapping[str, Any]

activation(
    "gelu",
    "GELU",
    "x·Φ(x), Φ the normal distribution: smooth near 0 (transformers use it).",
    "GELU({approximate!r})",
    "nn.GELU(approximate={approximate!r})",
    params=(
        ParamSpec(
            "approximate",
            ParamType.CHOICE,
            "none",
            choices=("none", "tanh"),
            help="'none' computes Φ exactly (erf); 'tanh' uses the faster approximation",
        ),
    ),
    build=lambda p, s: engine().GELU(p["approximate"]),
    summarize=lambda p: "tanh approx." if p["approximate"] == "tanh" else "",
)
activation(
    "silu", "SiLU", "x·sigmoid(x) (also called swish), smooth near 0.", "SiLU()", "nn.SiLU()"
)


def _infer_conv1d(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    if len(x) != 3:
        fix = (
            f"add a Reshape to 1,{x[1]} for one channel"
            if len(x) == 2
            else "add a Reshape to C,L (or a Flatten first)"
        )
        raise ShapeError(f"Conv1d expects N×C×L sequences, got {fmt(x)}; {fix}", port="x")
    k, st, pad = params["kernel_size"], params["stride"], params["padding"]
    length = int(x[2] or 0)
    out = (length + 2 * pad - k) // st + 1
    if out < 1:
        raise ShapeError(
            f"Conv1d window {k} does not fit the length {length}"
            f"{f' (padding {pad})' if pad else ''}; lower kernel_size or add padding",
            port="x",
        )
    return {"y": (x[0], params["out_channels"], out)}


_CONV1D_ARGS = "{in_channels}, {out_channels}, {kernel_size}, stride={stride}, padding={padding}"
layer(
    "conv1d",
    "Conv1d",
    "A 1-D convolution over N×C×L sequences (channels first; a Permute 0,2,1 turns N×T×F "
    "into N×F×T).",
    _infer_conv1d,
    params=(
        ParamSpec(
            "out_channels", ParamType.INT, 8, minimum=1, maximum=4096, help="output channels"
        ),
        ParamSpec("kernel_size", ParamType.INT, 3, minimum=1, maximum=63, help="window width"),
        ParamSpec("stride", ParamType.INT, 1, minimum=1, maximum=16, help="step of the window"),
        ParamSpec(
            "padding", ParamType.INT, 0, minimum=0, maximum=32, help="zeros added at both ends"
        ),
    ),
    build=lambda p, s: engine().Conv1d(
        int(s["x"][1] or 1),
        p["out_channels"],
        p["kernel_size"],
        stride=p["stride"],
        padding=p["padding"],
    ),
    example={"x": (None, 2, 10)},
    engine_code=CodeTemplate(f"Conv1d({_CONV1D_ARGS})", "self.{name}({x})"),
    torch_code=CodeTemplate(f"nn.Conv1d({_CONV1D_ARGS})", "self.{name}({x})"),
    template_values=lambda p, s: {"in_channels": str(s["x"][1])},
    summarize=lambda p: f"{p['out_channels']} ch, width {p['kernel_size']}",
    count=lambda p, s: (int(s["x"][1] or 1) * p["kernel_size"] + 1) * p["out_channels"],
)


pool2d("avg_pool2d", "AvgPool2d", "The mean over each window of N×C×H×W images.")


def _infer_global_pool(params: P, s: Shapes) -> dict[str, Shape]:
    _need_image("GlobalAvgPool2d", s["x"])
    return {"y": tuple(s["x"][:2])}


layer(
    "global_avg_pool2d",
    "GlobalAvgPool2d",
    "The mean of each channel over the whole image: N×C×H×W -> N×C.",
    _infer_global_pool,
    role=Role.OP,
    build=lambda p, s: engine().GlobalAvgPool2d(),
    example={"x": (None, 2, 4, 4)},
    engine_code=CodeTemplate("GlobalAvgPool2d()", "self.{name}({x})"),
    torch_code=CodeTemplate(
        "nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())", "self.{name}({x})"
    ),
)


def _infer_bn2d(params: P, s: Shapes) -> dict[str, Shape]:
    _need_image("BatchNorm2d", s["x"])
    return {"y": tuple(s["x"])}


layer(
    "batch_norm2d",
    "BatchNorm2d",
    "Normalises each channel of N×C×H×W images over the batch and the image.",
    _infer_bn2d,
    build=lambda p, s: engine().BatchNorm2d(int(s["x"][1] or 1)),
    example={"x": (None, 3, 4, 4)},
    engine_code=CodeTemplate("BatchNorm2d({in_channels})", "self.{name}({x})"),
    torch_code=CodeTemplate("nn.BatchNorm2d({in_channels})", "self.{name}({x})"),
    template_values=lambda p, s: {"in_channels": str(s["x"][1])},
    count=lambda p, s: 2 * int(s["x"][1] or 1),
)


def _gru_count(p: P, s: Shapes) -> int:
    f, h = features(s["x"]), int(p["hidden"])
    return 3 * (f * h + h * h + 2 * h)


register(
    NodeSpec(
        "gru",
        "GRU",
        Category.RECURRENT,
        "A gated recurrent unit layer (reset and update gates; PyTorch's equations).",
        Role.LAYER,
        infer=_sequence_infer("GRU"),
        inputs=(PortSpec("x", help="a batch of sequences N×T×F"),),
        outputs=(PortSpec("y", help="the hidden state at every step, N×T×H"),),
        params=(HIDDEN,),
        build=lambda p, s: engine().GRU(features(s["x"]), p["hidden"]),
        forward=call_module(),
        engine_code=CodeTemplate("GRU({in_features}, {hidden})", "self.{name}({x})"),
        torch_code=CodeTemplate(
            "nn.GRU({in_features}, {hidden}, batch_first=True)", "self.{name}({x})[0]"
        ),
        template_values=in_features,
        summarize=lambda p: f"{p['hidden']} hidden",
        count=_gru_count,
        example={"x": (None, 5, 4)},
    )
)


def _parse_permutation(text: str) -> tuple[int, ...]:
    """``"0,2,1"`` -> ``(0, 2, 1)``; raises ``ValueError`` unless it orders 0..n-1 with 0 first."""
    parts = [p.strip() for p in text.split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected axes separated by commas, like 0,2,1, got {text!r}") from None
    if sorted(dims) != list(range(len(dims))):
        raise ValueError(f"{text!r} is not an ordering of the axes 0..{len(dims) - 1}")
    if dims[0] != 0:
        raise ValueError("the batch axis stays first: start with 0")
    return dims


def _check_permutation(value: str) -> str | None:
    try:
        _parse_permutation(value)
    except ValueError as err:
        return str(err)
    return None


def _infer_permute(params: P, s: Shapes) -> dict[str, Shape]:
    x, dims = s["x"], _parse_permutation(params["dims"])
    if len(dims) != len(x):
        raise ShapeError(
            f"Permute {params['dims']} orders {len(dims)} axes but the input {fmt(x)} has "
            f"{len(x)}; give one index per axis",
            port="x",
        )
    return {"y": tuple(x[d] for d in dims)}


register(
    NodeSpec(
        "permute",
        "Permute",
        Category.TENSOR_OPS,
        "Reorders the axes, e.g. 0,2,1 turns N×T×F into N×F×T (the batch axis 0 stays first).",
        Role.OP,
        infer=_infer_permute,
        inputs=(PortSpec("x", help="the input"),),
        outputs=(PortSpec("y", help="the input with its axes reordered"),),
        params=(
            ParamSpec(
                "dims",
                ParamType.STR,
                "0,2,1",
                help="the new order of the axes, starting with 0 (the batch)",
                check=_check_permutation,
            ),
        ),
        forward=lambda m, p, i: {"y": i["x"].permute(*_parse_permutation(p["dims"]))},
        example={"x": (None, 3, 4)},
        engine_code=CodeTemplate(call="{x}.permute({dims_args})"),
        torch_code=CodeTemplate(call="{x}.permute({dims_args})"),
        template_values=lambda p, s: {
            "dims_args": ", ".join(str(d) for d in _parse_permutation(p["dims"]))
        },
        summarize=lambda p: p["dims"].replace(",", " "),
    )
)
