"""Tensor-op nodes: Add, Multiply, Concat, MatMul, Causal mask, Sum and Mean (no parameters to
learn)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    InferFn,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import engine
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

AB = (PortSpec("a", help="the left operand"), PortSpec("b", help="the right operand"))
Y = (PortSpec("y", help="the result"),)


def broadcast(title: str, a: Shape, b: Shape) -> Shape:
    """NumPy broadcasting of two shapes with None (the batch) only matching None or 1.

    Examples
    --------
    >>> broadcast("Add", (None, 3), (3,))
    (None, 3)
    """
    out: list[int | None] = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            raise ShapeError(
                f"{title} cannot combine {fmt(a)} with {fmt(b)}: sizes {fmt((da,))} and "
                f"{fmt((db,))} differ; make them equal (or 1 to repeat one side)",
                port="b",
            )
    return tuple(reversed(out))


def _binary(type_id: str, title: str, help: str, symbol: str) -> None:
    register(
        NodeSpec(
            type_id,
            title,
            Category.TENSOR_OPS,
            help,
            Role.OP,
            infer=lambda p, s: {"y": broadcast(title, s["a"], s["b"])},
            inputs=AB,
            outputs=Y,
            forward=lambda m, p, i: {"y": i["a"] + i["b"] if symbol == "+" else i["a"] * i["b"]},
            engine_code=CodeTemplate(call=f"{{a}} {symbol} {{b}}"),
            torch_code=CodeTemplate(call=f"{{a}} {symbol} {{b}}"),
        )
    )


_binary("add", "Add", "Element-wise a + b (broadcasting).", "+")
_binary("multiply", "Multiply", "Element-wise a · b (broadcasting).", "*")


def _infer_concat(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
    a, b, dim = s["a"], s["b"], params["dim"]
    axis = dim + len(a) if dim < 0 else dim
    rest_a, rest_b = a[:axis] + a[axis + 1 :], b[:axis] + b[axis + 1 :]
    if len(a) != len(b) or not 1 <= axis < len(a) or rest_a != rest_b:
        raise ShapeError(
            f"Concat along dim {dim} cannot join {fmt(a)} and {fmt(b)}; all other sizes must "
            "be equal and the dimension must come after the batch",
            port="b",
        )
    joined = None if a[axis] is None or b[axis] is None else a[axis] + b[axis]
    return {"y": (*a[:axis], joined, *a[axis + 1 :])}


register(
    NodeSpec(
        "concat",
        "Concat",
        Category.TENSOR_OPS,
        "Joins a and b along a dimension.",
        Role.OP,
        infer=_infer_concat,
        inputs=AB,
        outputs=Y,
        params=(
            ParamSpec(
                "dim",
                ParamType.INT,
                -1,
                minimum=-8,
                maximum=8,
                help="the dimension to join along (-1 is the last)",
            ),
        ),
        forward=lambda m, p, i: {"y": engine().concat([i["a"], i["b"]], dim=p["dim"])},
        engine_code=CodeTemplate(call="concat([{a}, {b}], dim={dim})"),
        torch_code=CodeTemplate(call="torch.cat([{a}, {b}], dim={dim})"),
        summarize=lambda p: f"dim {p['dim']}",
    )
)


def _infer_matmul(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
    a, b = s["a"], s["b"]
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise ShapeError(
            f"MatMul cannot multiply {fmt(a)} by {fmt(b)}; the last size of a must equal the "
            "second-to-last size of b",
            port="b",
        )
    lead = broadcast("MatMul", a[:-2], b[:-2])
    return {"y": (*lead, a[-2], b[-1])}


register(
    NodeSpec(
        "matmul",
        "MatMul",
        Category.TENSOR_OPS,
        "Matrix product a @ b (batched over leading dimensions).",
        Role.OP,
        infer=_infer_matmul,
        inputs=AB,
        outputs=Y,
        forward=lambda m, p, i: {"y": i["a"] @ i["b"]},
        example={"a": (None, 3, 4), "b": (4, 2)},
        engine_code=CodeTemplate(call="{a} @ {b}"),
        torch_code=CodeTemplate(call="{a} @ {b}"),
    )
)


def _infer_causal(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
    x = s["x"]
    if len(x) < 3:
        raise ShapeError(
            f"Causal mask hides entries above the diagonal of the last two axes; the input "
            f"{fmt(x)} has {len(x) - 1} after the batch: feed attention scores such as "
            "N×T×T or N×H×T×T",
            port="x",
        )
    return {"y": x}


def causal_mask(x: Any) -> Any:
    """``x`` with every entry above the diagonal of its last two axes set to -inf (engine)."""
    return x.masked_fill(np.triu(np.ones(x.shape[-2:], dtype=bool), 1), float("-inf"))


ENGINE_CAUSAL = '''def causal_mask(x):
    """x with every entry above the diagonal of its last two axes set to -inf."""
    return x.masked_fill(np.triu(np.ones(x.shape[-2:], dtype=bool), 1), float("-inf"))'''

TORCH_CAUSAL = '''def causal_mask(x):
    """x with every entry above the diagonal of its last two axes set to -inf."""
    hidden = torch.ones(x.shape[-2:], dtype=torch.bool, device=x.device).triu(1)
    return x.masked_fill(hidden, float("-inf"))'''

register(
    NodeSpec(
        "causal_mask",
        "Causal mask",
        Category.TENSOR_OPS,
        "Hides the future from attention scores: every entry above the diagonal of the last "
        "two axes becomes -inf, so a Softmax after it gives step t nothing from later steps.",
        Role.OP,
        infer=_infer_causal,
        inputs=(PortSpec("x", help="attention scores, e.g. N×H×T×T"),),
        outputs=(PortSpec("y", help="the scores, -inf above the diagonal"),),
        forward=lambda m, p, i: {"y": causal_mask(i["x"])},
        example={"x": (None, 2, 5, 5)},
        engine_code=CodeTemplate(call="causal_mask({x})", support=ENGINE_CAUSAL),
        torch_code=CodeTemplate(call="causal_mask({x})", support=TORCH_CAUSAL),
    )
)


def _reduce_infer(title: str) -> InferFn:
    def infer(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
        x, dim, keep = s["x"], params["dim"], params["keepdims"]
        if params["all"]:
            return {"y": ()}
        axis = dim + len(x) if dim < 0 else dim
        if not 0 <= axis < len(x):
            raise ShapeError(f"{title} over dim {dim} is not possible on {fmt(x)}", port="x")
        return {"y": (*x[:axis], *((1,) if keep else ()), *x[axis + 1 :])}

    return infer


def _reduce_args(p: Mapping[str, Any], keep_word: str) -> str:
    if p["all"]:
        return ""
    return f"dim={p['dim']}" + (f", {keep_word}=True" if p["keepdims"] else "")


def _reduce(type_id: str, title: str, method: str) -> None:
    def forward(module: Any, p: Mapping[str, Any], i: Mapping[str, Any]) -> dict[str, Any]:
        if p["all"]:
            return {"y": getattr(i["x"], method)()}
        return {"y": getattr(i["x"], method)(dim=p["dim"], keepdims=p["keepdims"])}

    register(
        NodeSpec(
            type_id,
            title,
            Category.TENSOR_OPS,
            f"The {method} of x along a dimension.",
            Role.OP,
            infer=_reduce_infer(title),
            inputs=(PortSpec("x", help="the input"),),
            outputs=Y,
            params=(
                ParamSpec(
                    "dim",
                    ParamType.INT,
                    -1,
                    minimum=-8,
                    maximum=8,
                    help="the dimension reduced (-1 is the last)",
                ),
                ParamSpec(
                    "keepdims",
                    ParamType.BOOL,
                    False,
                    help="keep it with size 1",
                    when=("all", (False,)),
                ),
                ParamSpec("all", ParamType.BOOL, False, help="reduce every dimension"),
            ),
            forward=forward,
            engine_code=CodeTemplate(call=f"{{x}}.{method}({{reduce_args}})"),
            torch_code=CodeTemplate(call=f"{{x}}.{method}({{torch_reduce_args}})"),
            template_values=lambda p, s: {
                "reduce_args": _reduce_args(p, "keepdims"),
                "torch_reduce_args": _reduce_args(p, "keepdim"),
            },
            summarize=lambda p: "all" if p["all"] else f"dim {p['dim']}",
        )
    )


_reduce("sum", "Sum", "sum")
_reduce("mean", "Mean", "mean")
