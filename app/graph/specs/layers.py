"""Layer nodes: Linear, Conv2d, MaxPool2d, Flatten, Reshape, Dropout, norms and Embedding.

Sizes that follow from the incoming shape (``in_features``, ``in_channels``) are inferred, never
asked: they reach ``build`` and the code templates through the input shapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    InferFn,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import (
    call_module,
    dims_check,
    engine,
    features,
    in_features,
    parse_dims,
    same,
    samples,
)
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

X = (PortSpec("x", help="the input batch"),)
Y = (PortSpec("y", help="the output batch"),)
P = Mapping[str, Any]


def layer(type_id: str, title: str, help: str, infer: InferFn, **kw: Any) -> NodeSpec:
    """Register a one-input, one-output node (a layer unless ``role`` says otherwise)."""
    kw.setdefault("inputs", X)
    kw.setdefault("outputs", Y)
    kw.setdefault("forward", call_module())
    kw.setdefault("role", Role.LAYER)
    kw.setdefault("engine_code", CodeTemplate(call="self.{name}({x})"))
    kw.setdefault("torch_code", CodeTemplate(call="self.{name}({x})"))
    return register(NodeSpec(type_id, title, Category.LAYERS, help, infer=infer, **kw))


def _flat_fix(title: str, x: Shape) -> str:
    return f"add a Flatten before the {title} to get N×{samples(x)}"


def _infer_linear(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    if len(x) < 2 or len(x) > 3:
        raise ShapeError(
            f"Linear expects N×F features (or N×T×F sequences), got {fmt(x)}; "
            + (_flat_fix("Linear", x) if len(x) > 3 else "it needs a batch of vectors"),
            port="x",
        )
    return {"y": (*x[:-1], params["units"])}


def _build_linear(params: P, s: Shapes) -> Any:
    return engine().Linear(features(s["x"]), params["units"], bias=params["bias"])


layer(
    "linear",
    "Linear",
    "A fully connected layer: y = x·W + b on the last dimension.",
    _infer_linear,
    params=(
        ParamSpec("units", ParamType.INT, 16, minimum=1, maximum=100_000, help="output features"),
        ParamSpec("bias", ParamType.BOOL, True, help="add a learned bias"),
    ),
    build=_build_linear,
    engine_code=CodeTemplate("Linear({in_features}, {units}, bias={bias})", "self.{name}({x})"),
    torch_code=CodeTemplate("nn.Linear({in_features}, {units}, bias={bias})", "self.{name}({x})"),
    template_values=in_features,
    summarize=lambda p: f"{p['units']} units",
    count=lambda p, s: features(s["x"]) * p["units"] + (p["units"] if p["bias"] else 0),
)


def _image_fix(title: str, x: Shape) -> str:
    n = samples(x)
    side = math.isqrt(n)
    if len(x) == 2 and side * side == n:
        return f"add a Reshape to 1,{side},{side} before the {title}"
    return "feed it N×C×H×W images (e.g. the digits dataset with images on)"


def _need_image(title: str, x: Shape) -> None:
    if len(x) != 4:
        raise ShapeError(
            f"{title} expects N×C×H×W images, got {fmt(x)}; {_image_fix(title, x)}", port="x"
        )


def _window(title: str, x: Shape, k: int, stride: int, pad: int) -> tuple[int, int]:
    h, w = (int(d or 0) for d in x[2:])
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    if oh < 1 or ow < 1:
        raise ShapeError(
            f"{title} window {k}×{k} does not fit the {h}×{w} image"
            f"{f' (padding {pad})' if pad else ''}; lower kernel_size or add padding",
            port="x",
        )
    return oh, ow


def _infer_conv(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    _need_image("Conv2d", x)
    k, st, pad = params["kernel_size"], params["stride"], params["padding"]
    return {"y": (x[0], params["out_channels"], *_window("Conv2d", x, k, st, pad))}


def _build_conv(params: P, s: Shapes) -> Any:
    return engine().Conv2d(
        int(s["x"][1] or 1),
        params["out_channels"],
        params["kernel_size"],
        stride=params["stride"],
        padding=params["padding"],
    )


_CONV_ARGS = "{in_channels}, {out_channels}, {kernel_size}, stride={stride}, padding={padding}"
layer(
    "conv2d",
    "Conv2d",
    "A 2-D convolution over N×C×H×W images.",
    _infer_conv,
    params=(
        ParamSpec(
            "out_channels",
            ParamType.INT,
            8,
            minimum=1,
            maximum=4096,
            help="output channels (filters)",
        ),
        ParamSpec("kernel_size", ParamType.INT, 3, minimum=1, maximum=31, help="window size"),
        ParamSpec("stride", ParamType.INT, 1, minimum=1, maximum=16, help="step of the window"),
        ParamSpec(
            "padding", ParamType.INT, 0, minimum=0, maximum=16, help="zeros added on each side"
        ),
    ),
    build=_build_conv,
    example={"x": (None, 2, 8, 8)},
    engine_code=CodeTemplate(f"Conv2d({_CONV_ARGS})", "self.{name}({x})"),
    torch_code=CodeTemplate(f"nn.Conv2d({_CONV_ARGS})", "self.{name}({x})"),
    template_values=lambda p, s: {"in_channels": str(s["x"][1])},
    summarize=lambda p: f"{p['out_channels']} ch, {p['kernel_size']}×{p['kernel_size']}",
    count=lambda p, s: (int(s["x"][1] or 1) * p["kernel_size"] ** 2 + 1) * p["out_channels"],
)


def pool2d(type_id: str, title: str, help: str) -> NodeSpec:
    """Register a 2-D pooling op ``title`` (``MaxPool2d``, ``AvgPool2d``) over N×C×H×W images,
    with a square window and a stride."""

    def infer(params: P, s: Shapes) -> dict[str, Shape]:
        x = s["x"]
        _need_image(title, x)
        return {"y": (*x[:2], *_window(title, x, params["kernel_size"], params["stride"], 0))}

    return layer(
        type_id,
        title,
        help,
        infer,
        role=Role.OP,
        params=(
            ParamSpec("kernel_size", ParamType.INT, 2, minimum=1, maximum=16, help="window size"),
            ParamSpec("stride", ParamType.INT, 2, minimum=1, maximum=16, help="step of the window"),
        ),
        build=lambda p, s: getattr(engine(), title)(p["kernel_size"], stride=p["stride"]),
        example={"x": (None, 2, 8, 8)},
        engine_code=CodeTemplate(title + "({kernel_size}, stride={stride})", "self.{name}({x})"),
        torch_code=CodeTemplate(
            "nn." + title + "({kernel_size}, stride={stride})", "self.{name}({x})"
        ),
        summarize=lambda p: f"{p['kernel_size']}×{p['kernel_size']}",
    )


pool2d("max_pool2d", "MaxPool2d", "The maximum over each window of N×C×H×W images.")


def _infer_flatten(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    if len(x) < 2:
        raise ShapeError(f"Flatten expects a batch N×…, got {fmt(x)}", port="x")
    return {"y": (x[0], samples(x[1:]))}


layer(
    "flatten",
    "Flatten",
    "Joins every dimension after the batch into one: N×C×H×W -> N×CHW.",
    _infer_flatten,
    role=Role.OP,
    build=lambda p, s: engine().Flatten(),
    example={"x": (None, 2, 3, 4)},
    engine_code=CodeTemplate("Flatten()", "self.{name}({x})"),
    torch_code=CodeTemplate("nn.Flatten()", "self.{name}({x})"),
)


def _infer_reshape(params: P, s: Shapes) -> dict[str, Shape]:
    x, dims = s["x"], parse_dims(params["shape"], allow_infer=True)
    have, known = samples(x[1:]), math.prod(d for d in dims if d != -1)
    if -1 in dims and have % known == 0:
        dims = tuple(have // known if d == -1 else d for d in dims)
    if math.prod(dims) != have:
        wanted = f"a multiple of {known}" if -1 in dims else str(known)
        raise ShapeError(
            f"Reshape to {params['shape']} needs {wanted} values per sample, got {fmt(x)} "
            f"({have} values); change its shape",
            port="x",
        )
    return {"y": (x[0], *dims)}


def _forward_reshape(module: Any, params: P, inputs: Mapping[str, Any]) -> dict[str, Any]:
    x = inputs["x"]
    return {"y": x.reshape(x.shape[0], *parse_dims(params["shape"], allow_infer=True))}


layer(
    "reshape",
    "Reshape",
    "Gives each sample a new shape with the same number of values.",
    _infer_reshape,
    role=Role.OP,
    params=(
        ParamSpec(
            "shape",
            ParamType.STR,
            "1,8,8",
            help="per-sample shape; one size may be -1",
            check=dims_check(allow_infer=True),
        ),
    ),
    forward=_forward_reshape,
    example={"x": (None, 64)},
    engine_code=CodeTemplate(call="{x}.reshape({x}.shape[0], {shape})"),
    torch_code=CodeTemplate(call="{x}.reshape({x}.shape[0], {shape})"),
    summarize=lambda p: "N×" + p["shape"].replace(",", "×"),
)

layer(
    "dropout",
    "Dropout",
    "Zeroes a random fraction p of values while training (scaled 1/(1-p)).",
    same(),
    role=Role.OP,
    params=(
        ParamSpec(
            "p", ParamType.FLOAT, 0.5, minimum=0.0, maximum=0.95, help="fraction of values dropped"
        ),
    ),
    build=lambda p, s: engine().Dropout(p["p"]),
    engine_code=CodeTemplate("Dropout({p})", "self.{name}({x})"),
    torch_code=CodeTemplate("nn.Dropout({p})", "self.{name}({x})"),
    summarize=lambda p: f"p={p['p']:g}",
)


def _infer_bn(params: P, s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    if len(x) != 2:
        raise ShapeError(
            f"BatchNorm1d expects N×F features, got {fmt(x)}; "
            + (_flat_fix("BatchNorm1d", x) if len(x) > 2 else "it needs a batch of vectors"),
            port="x",
        )
    return {"y": x}


def _infer_ln(params: P, s: Shapes) -> dict[str, Shape]:
    if len(s["x"]) < 2:
        raise ShapeError(f"LayerNorm expects N×…×F, got {fmt(s['x'])}", port="x")
    return {"y": s["x"]}


for _tid, _title, _infer, _help in (
    ("batch_norm1d", "BatchNorm1d", _infer_bn, "Normalises each feature over the batch."),
    ("layer_norm", "LayerNorm", _infer_ln, "Normalises each sample over its last dimension."),
):
    layer(
        _tid,
        _title,
        _help,
        _infer,
        build=lambda p, s, _t=_title: getattr(engine(), _t)(features(s["x"])),
        engine_code=CodeTemplate(_title + "({in_features})", "self.{name}({x})"),
        torch_code=CodeTemplate("nn." + _title + "({in_features})", "self.{name}({x})"),
        template_values=in_features,
        count=lambda p, s: 2 * features(s["x"]),
    )

layer(
    "embedding",
    "Embedding",
    "Looks up a learned vector for each integer index.",
    lambda p, s: {"y": (*s["x"], p["dim"])},
    inputs=(PortSpec("x", PortKind.INDICES, help="integer indices below vocab_size"),),
    params=(
        ParamSpec(
            "vocab_size",
            ParamType.INT,
            64,
            minimum=1,
            maximum=1_000_000,
            help="number of distinct indices",
        ),
        ParamSpec("dim", ParamType.INT, 16, minimum=1, maximum=100_000, help="vector size"),
    ),
    build=lambda p, s: engine().Embedding(p["vocab_size"], p["dim"]),
    example={"x": (None, 5)},
    engine_code=CodeTemplate("Embedding({vocab_size}, {dim})", "self.{name}({x})"),
    torch_code=CodeTemplate("nn.Embedding({vocab_size}, {dim})", "self.{name}({x})"),
    summarize=lambda p: f"{p['vocab_size']} → {p['dim']}",
    count=lambda p, s: p["vocab_size"] * p["dim"],
)
