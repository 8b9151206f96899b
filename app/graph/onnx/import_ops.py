"""One import converter per ONNX operator: :data:`IMPORTERS` maps an op type to the function
turning one ONNX node into planned nodegrad nodes (or a view, or a folded constant).

A converter raises :class:`~app.graph.onnx.values.Unsupported` saying why a node's
configuration cannot be imported; operators missing from the table are counted and listed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.graph.onnx import import_fold as fold
from app.graph.onnx.export_ops import ENGINE_TO_ONNX_GATES
from app.graph.onnx.import_base import ImportConverter, OnnxNode, describe
from app.graph.onnx.import_recurrent import recurrent
from app.graph.onnx.values import (
    Const,
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


def flatten(plan: Plan, node: OnnxNode) -> list[Value]:
    """Flatten at axis 1 (everything after the batch)."""
    node.require(node.attr("axis", 1) == 1, "only axis 1 (keep the batch) is supported")
    return [plan.add("flatten", {}, {"x": node.tensor(0)}, name=node.name)]


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


def binary(type_id: str) -> ImportConverter:
    """Add or Mul: two tensors; a bias after a MatMul; or a tensor and a uniform constant."""

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        a, b = node.input(0), node.input(1)
        if isinstance(a, Const) and not isinstance(b, Const):
            a, b = b, a  # both ops commute
        if isinstance(a, Tensor) and isinstance(b, Const):
            alone = node.uses[node.inputs.index(a)] == 1
            folded = _fold_bias(plan, a, b.array) if type_id == "add" and alone else None
            if folded is not None:
                return [folded]
            return [_with_constant(plan, node, type_id, a, b.array)]
        fed = {"a": node.tensor(0), "b": node.tensor(1)}
        return [plan.add(type_id, {}, fed, name=node.name)]

    return convert


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
    node.require(flat.size > 0 and bool(np.all(flat == flat[0])), "non-uniform constant operand")
    dims = ",".join(str(d) for d in c.shape) or "1"
    const = plan.add("constant", {"value": float(flat[0]), "shape": dims}, {}, name="")
    return plan.add(type_id, {}, {"a": x, "b": const}, name=node.name)


def _vector(array: np.ndarray, size: int, what: str) -> np.ndarray:
    """``array`` as a vector of ``size`` (a scalar or a 1×size row broadcasts)."""
    flat = _f32(array).reshape(-1)
    if flat.size not in (1, size):
        raise Unsupported(f"{what} has {flat.size} values, expected {size}")
    return np.ascontiguousarray(np.broadcast_to(flat, (size,)))


def conv(plan: Plan, node: OnnxNode) -> list[Value]:
    """Conv with a square kernel, equal strides and padding, no groups or dilation."""
    weight = _f32(node.const(1, "the kernel"))
    node.require(weight.ndim == 4 and weight.shape[2] == weight.shape[3], "a square 2-D kernel")
    node.require(node.attr("group", 1) == 1, "grouped convolutions are not supported")
    node.require(set(node.attr("dilations", [1])) == {1}, "dilations are not supported")
    node.require(node.attr("auto_pad", "NOTSET") == "NOTSET", "auto_pad is not supported")
    strides, pads = node.attr("strides", [1, 1]), node.attr("pads", [0, 0, 0, 0])
    node.require(len(set(strides)) == 1 and len(set(pads)) == 1, "equal strides and pads")
    bias = node.const_default(2, np.zeros(weight.shape[0], dtype=np.float32))
    params = {
        "out_channels": int(weight.shape[0]),
        "kernel_size": int(weight.shape[2]),
        "stride": int(strides[0]),
        "padding": int(pads[0]),
    }
    weights = {"weight": weight, "bias": _f32(bias)}
    return [plan.add("conv2d", params, {"x": node.tensor(0)}, weights, node.name)]


def max_pool(plan: Plan, node: OnnxNode) -> list[Value]:
    """MaxPool with a square window, no padding, dilation or ceil mode."""
    kernel = node.attr("kernel_shape", [])
    strides = node.attr("strides", kernel)
    node.require(len(kernel) == 2 and kernel[0] == kernel[1], "a square 2-D window")
    node.require(len(set(strides)) == 1, "equal strides")
    node.require(set(node.attr("pads", [0])) == {0}, "padding is not supported")
    node.require(not node.attr("ceil_mode", 0), "ceil_mode is not supported")
    node.require(set(node.attr("dilations", [1])) == {1}, "dilations are not supported")
    node.require(len(node.proto.output) < 2 or not node.proto.output[1], "Indices not supported")
    params = {"kernel_size": int(kernel[0]), "stride": int(strides[0])}
    return [plan.add("max_pool2d", params, {"x": node.tensor(0)}, name=node.name)]


def global_average_pool(plan: Plan, node: OnnxNode) -> list[Value]:
    """GlobalAveragePool of N×C×H×W -> two Means (over W, then H) keeping the dimensions."""
    x = node.tensor(0)
    node.require(len(x.shape) == 4, "N×C×H×W input")
    width = plan.add("mean", {"dim": -1, "keepdims": True}, {"x": x}, name="")
    return [plan.add("mean", {"dim": -2, "keepdims": True}, {"x": width}, name=node.name)]


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
    """BatchNormalization of N×F features (inference form) -> BatchNorm1d."""
    x = node.tensor(0)
    node.require(len(x.shape) == 2, f"only N×F features (BatchNorm1d), got rank {len(x.shape)}")
    _eps(node)
    names = ("weight", "bias", "running_mean", "running_var")
    weights = {n: _f32(node.const(i + 1, n)).reshape(-1) for i, n in enumerate(names)}
    return [plan.add("batch_norm1d", {}, {"x": x}, weights, node.name)]


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
    "Add": binary("add"),
    "Mul": binary("multiply"),
    "Conv": conv,
    "MaxPool": max_pool,
    "GlobalAveragePool": global_average_pool,
    "Relu": simple("relu"),
    "Tanh": simple("tanh"),
    "Sigmoid": simple("sigmoid"),
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
}
