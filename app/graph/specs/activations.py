"""Activation nodes: Tanh, Sigmoid, ReLU, LeakyReLU and Softmax (shape unchanged)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
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
from app.graph.specs.common import call_module, engine, same
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register


def activation(
    type_id: str, title: str, help: str, engine_init: str, torch_init: str, **kw: Any
) -> NodeSpec:
    """Register an element-wise (or row-wise) activation with one input ``x``, output ``y``."""
    kw.setdefault("infer", same())
    kw.setdefault("build", lambda p, s: getattr(engine(), engine_init.split("(")[0])())
    return register(
        NodeSpec(
            type_id,
            title,
            Category.ACTIVATIONS,
            help,
            Role.OP,
            inputs=(PortSpec("x", help="the input batch"),),
            outputs=(PortSpec("y", help="the activated batch"),),
            forward=call_module(),
            engine_code=CodeTemplate(engine_init, "self.{name}({x})"),
            torch_code=CodeTemplate(torch_init, "self.{name}({x})"),
            **kw,
        )
    )


activation("tanh", "Tanh", "tanh(x), values in (-1, 1).", "Tanh()", "nn.Tanh()")
activation("sigmoid", "Sigmoid", "1 / (1 + e^-x), values in (0, 1).", "Sigmoid()", "nn.Sigmoid()")
activation("relu", "ReLU", "max(x, 0).", "Relu()", "nn.ReLU()")
activation(
    "leaky_relu",
    "LeakyReLU",
    "x where positive, slope·x elsewhere.",
    "LeakyRelu({slope})",
    "nn.LeakyReLU({slope})",
    params=(
        ParamSpec(
            "slope",
            ParamType.FLOAT,
            0.01,
            minimum=0.0,
            maximum=1.0,
            help="slope for negative inputs",
        ),
    ),
    build=lambda p, s: engine().LeakyRelu(p["slope"]),
    summarize=lambda p: f"slope {p['slope']:g}",
)


def _infer_softmax(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
    x, dim = s["x"], params["dim"]
    if not -len(x) <= dim < len(x) or dim % max(len(x), 1) == 0:
        raise ShapeError(
            f"Softmax over dim {dim} is not possible on {fmt(x)}; pick a dimension after the "
            "batch (-1 is the last)",
            port="x",
        )
    return {"y": x}


activation(
    "softmax",
    "Softmax",
    "e^x normalised to sum to 1 along a dimension.",
    "Softmax(dim={dim})",
    "nn.Softmax(dim={dim})",
    infer=_infer_softmax,
    params=(
        ParamSpec(
            "dim", ParamType.INT, -1, minimum=-8, maximum=8, help="the dimension that sums to 1"
        ),
    ),
    build=lambda p, s: engine().Softmax(dim=p["dim"]),
    summarize=lambda p: f"dim {p['dim']}",
)
