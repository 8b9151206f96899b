"""One import converter per ONNX operator: :data:`IMPORTERS` maps an op type to the function
turning one ONNX node into planned nodegrad nodes (or a view, or a folded constant).

A converter raises :class:`~app.graph.onnx.values.Unsupported` saying why a node's
configuration cannot be imported; operators missing from the table are counted and listed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.graph.onnx import import_elementwise as elementwise
from app.graph.onnx import import_fold as fold
from app.graph.onnx.export_ops import ENGINE_TO_ONNX_GATES, ENGINE_TO_ONNX_GRU_GATES
from app.graph.onnx.import_base import ImportConverter, OnnxNode, describe
from app.graph.onnx.import_recurrent import recurrent
from app.graph.onnx.values import (
    Const,
    Layout,
    Plan,
    Poison,
    Sym,
    Tensor,
    Unsupported,
    Value,
)

ENGINE_EPS = 1e-5  # nodegrad's BatchNorm1d and LayerNorm


def _f32(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def simple(type_id: str, **params: Any) -> ImportConverter:
    """An op that maps to one nodegrad node on input 0 with fixed parameters."""

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        return [plan.add(type_id, dict(params), {"x": node.tensor(0)}, name=node.name)]

    return convert


def leaky_relu(plan: Plan, node: OnnxNode) -> list[Value]:
    """LeakyRelu(alpha) -> LeakyReLU(slope)."""
    params = {"slope": float(node.attr("alpha", 0.01))}
    return [plan.add("leaky_relu", params, {"x": node.tensor(0)}, name=node.name)]


def softmax(plan: Plan, node: OnnxNode) -> list[Value]:
    """Softmax along one axis (before opset 13 only the last axis means the same)."""
    x = node.tensor(0)
    axis = int(node.attr("axis", -1 if node.opset >= 13 else 1))
    if node.opset < 13:
        node.require(axis in (-1, len(x.shape) - 1), "before opset 13 only the last axis")
    return [plan.add("softmax", {"dim": axis}, {"x": x}, name=node.name)]


def gemm(plan: Plan, node: OnnxNode) -> list[Value]:
    """Gemm(x, B, C) = alpha·x·B' + beta·C -> Linear (weight alpha·B', bias beta·C)."""
    node.require(not node.attr("transA", 0), "transA is not supported")
    b = _f32(node.const(1, "B")) * float(node.attr("alpha", 1.0))
    weight = b.T if node.attr("transB", 0) else b
    node.require(weight.ndim == 2, "B must be a matrix")
    c = node.const_or(2, None)
    weights = {"weight": weight}
    if c is not None:
        weights["bias"] = _vector(c * float(node.attr("beta", 1.0)), weight.shape[1], "C")
    params = {"units": int(weight.shape[1]), "bias": c is not None}
    return [plan.add("linear", params, {"x": node.tensor(0)}, weights, node.name)]


def matmul(plan: Plan, node: OnnxNode) -> list[Value]:
    """MatMul by a constant matrix -> Linear without bias (an Add after it adds the bias);
    two computed tensors -> MatMul."""
    if isinstance(node.input(1), Const):
        weight = _f32(node.const(1, "B"))
        node.require(weight.ndim == 2, "the constant factor must be a matrix")
        params = {"units": int(weight.shape[1]), "bias": False}
        return [plan.add("linear", params, {"x": node.tensor(0)}, {"weight": weight}, node.name)]
    inputs = {"a": node.tensor(0), "b": node.tensor(1)}
    return [plan.add("matmul", {}, inputs, name=node.name)]


def arithmetic(op: str, type_id: str | None = None) -> ImportConverter:
    """Add, Mul, Sub, Div, Pow. A bias after a MatMul joins its Linear; scalars and tensors of
    one source stay an element-wise expression (a GELU in the making); else, with ``type_id``,
    two tensors (Add, Multiply), a positional table or a uniform constant."""

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        a, b = node.input(0), node.input(1)
        if isinstance(a, Const) and not isinstance(b, Const) and type_id is not None:
            a, b = b, a  # Add and Mul commute
        if type_id == "add" and isinstance(a, Tensor) and isinstance(b, Const):
            alone = node.uses[node.inputs.index(a)] == 1
            folded = _fold_bias(plan, a, b.array) if alone else None
            if folded is not None:
                return [folded]
        x, y = elementwise.operand(a), elementwise.operand(b)
        if x is not None and y is not None:
            expr = elementwise.combine(op, x, y, name=node.name)
            if expr is not None:
                return [expr]
        if type_id is None:
            raise Unsupported(f"{op} of {describe(a)} and {describe(b)}")
        a, b = elementwise.materialize(plan, a), elementwise.materialize(plan, b)
        if isinstance(a, Tensor) and isinstance(b, Const):
            if type_id == "add" and _is_positional(a, b.array):
                params = {"max_len": int(a.shape[1] or 1)}
                table = {"weight": _f32(b.array).reshape(a.shape[1:])}
                return [plan.add("positional_embedding", params, {"x": a}, table, node.name)]
            if type_id == "add" and _is_causal_mask(b.array, a):
                return [plan.add("causal_mask", {}, {"x": a}, name=node.name)]
            return [_with_constant(plan, node, type_id, a, b.array)]
        fed = {"a": _plain(a, 0), "b": _plain(b, 1)}
        return [plan.add(type_id, {}, fed, name=node.name)]

    return convert


def _plain(value: Value | None, index: int) -> Tensor:
    if isinstance(value, Tensor):
        return value
    raise Unsupported(f"input {index} must be a computed tensor, {describe(value)}")


def _is_positional(x: Tensor, table: np.ndarray) -> bool:
    """A (T, F) table added to N×T×F sequences: a learned positional embedding."""
    return (
        len(x.shape) == 3
        and tuple(table.shape[-2:]) == tuple(x.shape[1:])
        and (table.ndim == 2 or (table.ndim == 3 and table.shape[0] == 1))
    )


def _fold_bias(plan: Plan, x: Tensor, bias: np.ndarray) -> Tensor | None:
    """Give a bias-free Linear (from a MatMul) its bias, when ``x`` is its only use."""
    planned = plan.nodes[x.node]
    units = planned.params.get("units")
    if planned.type_id != "linear" or planned.params["bias"] or x.node in plan.consumed:
        return None
    if bias.size != units or any(d != 1 for d in bias.shape[:-1]):
        return None
    planned.params["bias"] = True
    planned.weights["bias"] = _f32(bias).reshape(-1)
    return x


def _with_constant(plan: Plan, node: OnnxNode, type_id: str, x: Tensor, c: np.ndarray) -> Tensor:
    """``x`` with a constant tensor whose values are all equal (a Constant node)."""
    flat = np.ravel(c)
    node.require(
        not _is_causal_mask(c), "a causal mask can only be added to attention scores (N×…×T×S)"
    )
    node.require(flat.size > 0 and bool(np.all(flat == flat[0])), "non-uniform constant operand")
    dims = ",".join(str(d) for d in c.shape) or "1"
    const = plan.add("constant", {"value": float(flat[0]), "shape": dims}, {}, name="")
    return plan.add(type_id, {}, {"a": x, "b": const}, name=node.name)


def _is_causal_mask(c: np.ndarray, scores: Tensor | None = None) -> bool:
    """Whether ``c`` is a T×S table (leading axes of size 1) that is 0 on and below the diagonal
    and very negative above, and, given ``scores``, fits their last two axes (N×…×T×S)."""
    if c.ndim < 2 or min(c.shape[-2:]) < 2 or c.size != c.shape[-1] * c.shape[-2]:
        return False
    if scores is not None and (
        len(scores.shape) < 3 or tuple(scores.shape[-2:]) != tuple(c.shape[-2:])
    ):
        return False
    table = np.asarray(c, dtype=np.float64).reshape(c.shape[-2:])
    above = np.triu(np.ones(table.shape, dtype=bool), k=1)
    return bool(np.all(table[~above] == 0) and np.all(table[above] < -1e4))


def _vector(array: np.ndarray, size: int, what: str) -> np.ndarray:
    """``array`` as a vector of ``size`` (a scalar or a 1×size row broadcasts)."""
    flat = _f32(array).reshape(-1)
    if flat.size not in (1, size):
        raise Unsupported(f"{what} has {flat.size} values, expected {size}")
    return np.ascontiguousarray(np.broadcast_to(flat, (size,)))


def conv(plan: Plan, node: OnnxNode) -> list[Value]:
    """Conv over images (square kernel) or sequences (1-D): equal strides and padding, no
    groups or dilation -> Conv2d or Conv1d."""
    weight = _f32(node.const(1, "the kernel"))
    square = weight.ndim == 4 and weight.shape[2] == weight.shape[3]
    node.require(square or weight.ndim == 3, "a square 2-D kernel or a 1-D one")
    node.require(node.attr("group", 1) == 1, "grouped convolutions are not supported")
    node.require(set(node.attr("dilations", [1])) == {1}, "dilations are not supported")
    node.require(node.attr("auto_pad", "NOTSET") == "NOTSET", "auto_pad is not supported")
    strides, pads = node.attr("strides", [1]), node.attr("pads", [0])
    node.require(len(set(strides)) == 1 and len(set(pads)) == 1, "equal strides and pads")
    bias = node.const_default(2, np.zeros(weight.shape[0], dtype=np.float32))
    params = {
        "out_channels": int(weight.shape[0]),
        "kernel_size": int(weight.shape[2]),
        "stride": int(strides[0]),
        "padding": int(pads[0]),
    }
    weights = {"weight": weight, "bias": _f32(bias)}
    type_id = "conv2d" if weight.ndim == 4 else "conv1d"
    return [plan.add(type_id, params, {"x": node.tensor(0)}, weights, node.name)]


def _window(node: OnnxNode) -> dict[str, int]:
    """A pooling's square window and stride (no padding, dilation or ceil mode)."""
    kernel = node.attr("kernel_shape", [])
    strides = node.attr("strides", [1] * len(kernel))
    node.require(len(kernel) == 2 and kernel[0] == kernel[1], "a square 2-D window")
    node.require(len(set(strides)) == 1, "equal strides")
    node.require(set(node.attr("pads", [0])) == {0}, "padding is not supported")
    node.require(not node.attr("ceil_mode", 0), "ceil_mode is not supported")
    node.require(set(node.attr("dilations", [1])) == {1}, "dilations are not supported")
    return {"kernel_size": int(kernel[0]), "stride": int(strides[0])}


def max_pool(plan: Plan, node: OnnxNode) -> list[Value]:
    """MaxPool with a square window -> MaxPool2d (no Indices output)."""
    node.require(len(node.proto.output) < 2 or not node.proto.output[1], "Indices not supported")
    return [plan.add("max_pool2d", _window(node), {"x": node.tensor(0)}, name=node.name)]


def average_pool(plan: Plan, node: OnnxNode) -> list[Value]:
    """AveragePool with a square window -> AvgPool2d."""
    return [plan.add("avg_pool2d", _window(node), {"x": node.tensor(0)}, name=node.name)]


def global_average_pool(plan: Plan, node: OnnxNode) -> list[Value]:
    """GlobalAveragePool -> GlobalAvgPool2d (N×C), seen as ONNX's N×C×1×1 until a Flatten."""
    pooled = plan.add("global_avg_pool2d", {}, {"x": node.tensor(0)}, name=node.name)
    return [Tensor(pooled.node, pooled.port, (*pooled.shape, 1, 1), Layout.POOLED)]


def flatten(plan: Plan, node: OnnxNode) -> list[Value]:
    """Flatten at axis 1 (everything after the batch); a pooled N×C×1×1 is N×C already."""
    node.require(node.attr("axis", 1) == 1, "only axis 1 (keep the batch) is supported")
    x = node.input(0)
    if isinstance(x, Tensor) and x.layout is Layout.POOLED:
        return [Tensor(x.node, x.port, x.shape[:2])]
    return [plan.add("flatten", {}, {"x": node.tensor(0)}, name=node.name)]


def gelu(plan: Plan, node: OnnxNode) -> list[Value]:
    """Gelu (opset 20) -> GELU, exact or with the tanh approximation."""
    params = {"approximate": str(node.attr("approximate", "none"))}
    return [plan.add("gelu", params, {"x": node.tensor(0)}, name=node.name)]


def reshape(plan: Plan, node: OnnxNode) -> list[Value]:
    """Reshape keeping the batch first (0, -1 or the batch size itself) -> Reshape."""
    x, target = node.tensor(0), node.input(1)
    if isinstance(target, Const):
        dims: list[int | None] = [int(d) for d in np.ravel(target.array)]
    elif isinstance(target, Sym):
        dims = list(target.values)
    else:
        raise Unsupported(f"the shape {describe(target)}")
    node.require(len(dims) >= 2, "the result must keep the batch and one more dimension")
    copy = not node.attr("allowzero", 0)
    node.require(not copy or 0 not in dims[len(x.shape) :], "a 0 past the input's dimensions")
    rest = [x.shape[i] if d == 0 and copy else d for i, d in enumerate(dims)]
    head, tail = rest[0], rest[1:]
    node.require(head is None or (head == -1 and -1 not in tail), "the batch must stay first")
    node.require(all(isinstance(d, int) for d in tail), "only the first size may be the batch")
    shape = ",".join(str(d) for d in tail)
    return [plan.add("reshape", {"shape": shape}, {"x": x}, name=node.name)]


def dropout(plan: Plan, node: OnnxNode) -> list[Value]:
    """Dropout(ratio) -> Dropout(p) (an identity at inference, as in ONNX); no mask output."""
    default = np.array(0.5, dtype=np.float32)
    ratio: Any = node.attr("ratio", 0.5) if node.opset < 12 else node.const_default(1, default)
    y = plan.add("dropout", {"p": float(np.ravel(ratio)[0])}, {"x": node.tensor(0)}, name=node.name)
    return [y, Poison("the mask output of Dropout is not supported")]


def batch_norm(plan: Plan, node: OnnxNode) -> list[Value]:
    """BatchNormalization (inference form) of N×F features or N×C×H×W images ->
    BatchNorm1d or BatchNorm2d."""
    x = node.tensor(0)
    kinds = {2: "batch_norm1d", 4: "batch_norm2d"}
    node.require(len(x.shape) in kinds, f"only N×F or N×C×H×W input, got rank {len(x.shape)}")
    _eps(node)
    names = ("weight", "bias", "running_mean", "running_var")
    weights = {n: _f32(node.const(i + 1, n)).reshape(-1) for i, n in enumerate(names)}
    return [plan.add(kinds[len(x.shape)], {}, {"x": x}, weights, node.name)]


def layer_norm(plan: Plan, node: OnnxNode) -> list[Value]:
    """LayerNormalization over the last axis -> LayerNorm."""
    x = node.tensor(0)
    node.require(node.attr("axis", -1) in (-1, len(x.shape) - 1), "only the last axis")
    _eps(node)
    features = int(x.shape[-1] or 1)
    scale = _f32(node.const(1, "the scale")).reshape(-1)
    bias = node.const_default(2, np.zeros(features, dtype=np.float32))
    weights = {"weight": scale, "bias": _f32(bias).reshape(-1)}
    return [plan.add("layer_norm", {}, {"x": x}, weights, node.name)]


def _eps(node: OnnxNode) -> None:
    eps = float(node.attr("epsilon", ENGINE_EPS))
    node.require(abs(eps - ENGINE_EPS) <= 1e-9, f"epsilon {eps:g} (nodegrad uses {ENGINE_EPS:g})")


def reduce(type_id: str) -> ImportConverter:
    """ReduceSum / ReduceMean over one axis (or all, without keepdims) -> Sum / Mean."""

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        x = node.tensor(0)
        axes_in = node.opset >= (13 if type_id == "sum" else 18)
        axes: Any = node.const_or(1, None) if axes_in else node.attr("axes")
        keep = bool(node.attr("keepdims", 1))
        if axes is None or np.size(axes) == 0:
            node.require(not keep, "reducing every axis keeps no dimensions in nodegrad")
            return [plan.add(type_id, {"all": True}, {"x": x}, name=node.name)]
        node.require(np.size(axes) == 1, "one axis at a time")
        params = {"dim": int(np.ravel(axes)[0]), "keepdims": keep, "all": False}
        return [plan.add(type_id, params, {"x": x}, name=node.name)]

    return convert


def concat(plan: Plan, node: OnnxNode) -> list[Value]:
    """Concat of computed tensors -> Concat nodes (chained for more than two); else folded."""
    if not all(isinstance(v, Tensor) for v in node.inputs):
        return [fold.concat_fold(node)]
    axis = int(node.attr("axis"))
    joined = node.tensor(0)
    for i in range(1, len(node.inputs)):
        name = node.name if i == len(node.inputs) - 1 else ""
        joined = plan.add("concat", {"dim": axis}, {"a": joined, "b": node.tensor(i)}, name=name)
    return [joined]


# Ops that read element-wise expressions themselves; every other op reads them as nodes.
READS_EXPRESSIONS = frozenset(
    {"Identity", "Tanh", "Sigmoid", "Erf", "Add", "Mul", "Sub", "Div", "Pow"}
)

IMPORTERS: dict[str, ImportConverter] = {
    "Identity": fold.identity,
    "Constant": fold.constant,
    "Shape": fold.shape,
    "Gather": fold.gather,
    "Unsqueeze": fold.unsqueeze,
    "Squeeze": fold.squeeze,
    "Transpose": fold.transpose,
    "ConstantOfShape": fold.constant_of_shape,
    "Cast": fold.cast,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": arithmetic("add", "add"),
    "Mul": arithmetic("mul", "multiply"),
    "Sub": arithmetic("sub"),
    "Div": arithmetic("div"),
    "Pow": arithmetic("pow"),
    "Erf": elementwise.unary("erf"),
    "Gelu": gelu,
    "AveragePool": average_pool,
    "Conv": conv,
    "MaxPool": max_pool,
    "GlobalAveragePool": global_average_pool,
    "Relu": simple("relu"),
    "Tanh": elementwise.unary("tanh"),
    "Sigmoid": elementwise.unary("sigmoid"),
    "LeakyRelu": leaky_relu,
    "Softmax": softmax,
    "Flatten": flatten,
    "Reshape": reshape,
    "Dropout": dropout,
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "ReduceSum": reduce("sum"),
    "ReduceMean": reduce("mean"),
    "Concat": concat,
    "RNN": recurrent("rnn", (0,)),
    "LSTM": recurrent("lstm", ENGINE_TO_ONNX_GATES),
    "GRU": recurrent("gru", ENGINE_TO_ONNX_GRU_GATES, split_bias=True, linear_before_reset=1),
}
