"""Import converters that compute nothing at run time: constants, shape arithmetic, and the
transposes and squeezes around ONNX's time-major recurrent ops (they become views)."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from app.graph.onnx.import_base import OnnxNode, describe
from app.graph.onnx.values import (
    Const,
    Layout,
    Plan,
    Poison,
    Sym,
    Tensor,
    Unsupported,
    Value,
    Zeros,
)

MAX_FOLDED = 1_000_000  # elements a folded constant may have


def identity(plan: Plan, node: OnnxNode) -> list[Value]:
    """Identity (and Cast of a computed float tensor): the value itself."""
    value = node.input(0)
    if value is None:
        raise Unsupported("it has no input")
    return [value]


def constant(plan: Plan, node: OnnxNode) -> list[Value]:
    """Constant: its ``value`` tensor or one of the ``value_*`` scalars and lists."""
    for attribute in node.proto.attribute:
        if attribute.name == "value":
            return [Const(_bounded(numpy_helper.to_array(attribute.t)))]
    for name, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if node.attr(name) is not None:
            return [Const(np.array(node.attr(name), dtype=dtype))]
    for name, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if node.attr(name) is not None:
            return [Const(_bounded(np.array(node.attr(name), dtype=dtype)))]
    raise Unsupported("only numeric values are supported")


def shape(plan: Plan, node: OnnxNode) -> list[Value]:
    """Shape of a computed tensor: a :class:`Sym` with None for the batch."""
    value = node.input(0)
    if isinstance(value, Const):
        return [Const(np.array(value.array.shape, dtype=np.int64))]
    if isinstance(value, Tensor):
        dims = tuple(value.shape)[node.attr("start", 0) : node.attr("end", None)]
        return [Sym(dims)]
    raise Unsupported(f"input 0 {describe(value)}")


def gather(plan: Plan, node: OnnxNode) -> list[Value]:
    """Gather: an Embedding (constant table, computed indices), else folded shape arithmetic."""
    data, index = node.input(0), node.input(1)
    if isinstance(data, Const) and isinstance(index, Tensor):
        node.require(node.attr("axis", 0) == 0, "an embedding gathers rows (axis 0)")
        node.require(data.array.ndim == 2, "an embedding table must be 2-D")
        table = data.array.astype(np.float32)
        params = {"vocab_size": table.shape[0], "dim": table.shape[1]}
        return [plan.add("embedding", params, {"x": node.tensor(1)}, {"weight": table}, node.name)]
    indices = node.const(1, "the indices")
    if isinstance(data, Sym):
        node.require(node.attr("axis", 0) == 0, "shape vectors have one axis")
        picked = np.asarray(indices).reshape(-1)
        values = tuple(data.values[int(i)] for i in picked)
        return [Sym(values, scalar=np.ndim(indices) == 0)]
    array = node.const(0, "the data")
    return [Const(_bounded(np.take(array, indices, axis=node.attr("axis", 0))))]


def unsqueeze(plan: Plan, node: OnnxNode) -> list[Value]:
    """Unsqueeze of constants and shape scalars."""
    value = node.input(0)
    axes = node.attr("axes") if node.opset < 13 else node.const(1, "the axes")
    if isinstance(value, Sym):
        node.require(value.scalar and list(np.ravel(axes)) == [0], "only a scalar becomes [x]")
        return [Sym(value.values)]
    array = node.const(0, "the data")
    return [Const(np.expand_dims(array, tuple(int(a) for a in np.ravel(axes))))]


def squeeze(plan: Plan, node: OnnxNode) -> list[Value]:
    """Squeeze of a recurrent op's Y (axis 1) into its time-major view; constants fold."""
    value = node.input(0)
    axes = node.attr("axes") if node.opset < 13 else node.const_or(1, None)
    if isinstance(value, Tensor) and value.layout is Layout.RECURRENT_Y:
        node.require(axes is not None and list(np.ravel(axes)) == [1], "Y squeezes on axis 1")
        steps, _, batch, hidden = value.shape
        return [Tensor(value.node, value.port, (steps, batch, hidden), Layout.TIME_MAJOR)]
    array = node.const(0, "the data")
    where = None if axes is None else tuple(int(a) for a in np.ravel(axes))
    return [Const(np.squeeze(array, axis=where))]


def transpose(plan: Plan, node: OnnxNode) -> list[Value]:
    """Transpose: swapping time and batch of a sequence is a view; constants fold."""
    value = node.input(0)
    perm = node.attr("perm")
    if isinstance(value, Const):
        return [Const(np.transpose(value.array, perm))]
    if isinstance(value, Tensor) and list(perm or []) == [1, 0, 2]:
        a, b, c = value.shape
        if value.layout is Layout.PLAIN:
            return [Tensor(value.node, value.port, (b, a, c), Layout.TIME_MAJOR)]
        if value.layout is Layout.TIME_MAJOR:
            return [Tensor(value.node, value.port, (b, a, c), Layout.PLAIN)]
    if isinstance(value, Tensor) and perm and perm[0] == 0:
        dims = ",".join(str(int(d)) for d in perm)
        return [plan.add("permute", {"dims": dims}, {"x": node.tensor(0)}, name=node.name)]
    raise Unsupported(
        f"perm {perm} {describe(value)}; the batch must stay first (a time/batch swap only "
        "around RNN, LSTM and GRU layers)"
    )


def concat_fold(node: OnnxNode) -> Value:
    """Concat of shape vectors and constants (the shape arithmetic of a Reshape)."""
    parts: list[int | None] = []
    for value in node.inputs:
        if isinstance(value, Sym):
            parts.extend(value.values)
        elif isinstance(value, Const) and value.array.ndim == 1:
            parts.extend(int(v) for v in value.array)
        else:
            raise Unsupported(f"concatenating {describe(value)}")
    if all(p is not None for p in parts):
        return Const(np.array(parts, dtype=np.int64))
    return Sym(tuple(parts))


def constant_of_shape(plan: Plan, node: OnnxNode) -> list[Value]:
    """ConstantOfShape: zeros (an initial state); other fill values only for known shapes."""
    value = node.input(0)
    fill = node.attr("value")
    number = 0.0 if fill is None else float(numpy_helper.to_array(fill).reshape(-1)[0])
    if isinstance(value, Sym):
        node.require(number == 0.0, "only zeros may have a batch-dependent shape")
        return [Zeros(value.values)]
    dims = tuple(int(d) for d in np.ravel(node.const(0, "the shape")))
    node.require(all(d >= 0 for d in dims), "negative sizes")
    if int(np.prod(dims, dtype=np.float64)) > MAX_FOLDED:
        raise Unsupported(f"a constant of shape {dims} is too large")
    return [Const(np.full(dims, number, dtype=np.float32))]


def cast(plan: Plan, node: OnnxNode) -> list[Value]:
    """Cast: constants are converted; a computed tensor passes (the engine works in float32)."""
    value = node.input(0)
    if isinstance(value, Const):
        from onnx import helper

        dtype = helper.tensor_dtype_to_np_dtype(int(node.attr("to")))
        return [Const(value.array.astype(dtype))]
    if isinstance(value, (Sym, Tensor)):
        return [value]
    return [Poison(f"Cast of {describe(value)}")]


def _bounded(array: np.ndarray) -> np.ndarray:
    if array.size > MAX_FOLDED:
        raise Unsupported(f"a folded constant of {array.size} values is too large")
    return array
