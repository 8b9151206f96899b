"""Import of ONNX's time-major recurrent ops (RNN, LSTM, GRU) as nodegrad's batch-first layers.

The Transposes around them become views (:mod:`app.graph.onnx.import_fold`); the weights are
reordered from ONNX's gate blocks to the engine's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.graph.onnx.export_ops import gate_blocks
from app.graph.onnx.import_base import ImportConverter, OnnxNode
from app.graph.onnx.values import Const, Layout, Plan, Poison, Tensor, Unsupported, Value, Zeros


def _f32(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def recurrent(
    type_id: str, order: tuple[int, ...], split_bias: bool = False, **fixed: Any
) -> ImportConverter:
    """ONNX's time-major RNN, LSTM or GRU (forward, zero initial state) -> the nodegrad layer.

    ``order`` maps the engine's gate blocks to ONNX's; ``split_bias`` keeps the input and
    recurrent biases apart (a GRU's ``bias_ih``/``bias_hh``), else they are summed into ``bias``;
    ``fixed`` are attributes the layer needs (a GRU's ``linear_before_reset=1``).
    """
    gates = len(order)
    to_engine = tuple(int(i) for i in np.argsort(order))

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        x = node.input(0)
        if not isinstance(x, Tensor) or x.layout is not Layout.TIME_MAJOR:
            raise Unsupported(
                "its input must be a batch-first sequence transposed to time-major (perm 1,0,2)"
            )
        _check_recurrent(node, fixed)
        w, r = _f32(node.const(1, "W")), _f32(node.const(2, "R"))
        hidden = int(r.shape[-1]) if r.ndim == 3 else 0
        node.require(node.attr("hidden_size", hidden) == hidden > 0, "hidden_size must match R")
        width = gates * hidden
        node.require(r.shape == (1, width, hidden), f"R must be 1×{width}×{hidden}")
        node.require(w.shape == (1, width, x.shape[2]), f"W must be 1×{width}×{x.shape[2]}")
        b = node.const_default(3, np.zeros((1, 2 * width), dtype=np.float32))
        node.require(b.size == 2 * width, f"B must hold {2 * width} values")
        halves = np.asarray(b, dtype=np.float32).reshape(2, width)
        weights = {
            "weight_ih": gate_blocks(w[0], to_engine).T,
            "weight_hh": gate_blocks(r[0], to_engine).T,
        }
        if split_bias:
            weights["bias_ih"] = gate_blocks(halves[0], to_engine)
            weights["bias_hh"] = gate_blocks(halves[1], to_engine)
        else:
            weights["bias"] = gate_blocks(halves.sum(axis=0), to_engine)
        params: dict[str, Any] = {"hidden": hidden}
        if type_id == "rnn":
            params["activation"] = _rnn_activation(node)
        batch_first = Tensor(x.node, x.port, (x.shape[1], x.shape[0], x.shape[2]))
        y = plan.add(type_id, params, {"x": batch_first}, weights, node.name)
        steps, batch = x.shape[0], x.shape[1]
        out = Tensor(y.node, y.port, (steps, 1, batch, hidden), Layout.RECURRENT_Y)
        last = Poison("the last states (Y_h, Y_c) are not supported; use Y")
        return [out, last, last]

    return convert


def _check_recurrent(node: OnnxNode, fixed: dict[str, Any]) -> None:
    """The options nodegrad's recurrent layers do not have are refused, one by one."""
    node.require(node.attr("direction", "forward") == "forward", "only forward direction")
    node.require(not node.attr("layout", 0), "layout 1 is not supported")
    node.require(node.attr("clip") is None, "clip is not supported")
    node.require(node.input(4) is None, "sequence_lens is not supported")
    for index in (5, 6):
        node.require(_zero_state(node.input(index)), "only a zero initial state is supported")
    node.require(node.input(7) is None, "peepholes are not supported")
    node.require(not node.attr("input_forget", 0), "input_forget is not supported")
    for name, value in fixed.items():
        node.require(node.attr(name, 0) == value, f"only {name}={value} is supported")


def _zero_state(value: Value | None) -> bool:
    if value is None or isinstance(value, Zeros):
        return True
    return isinstance(value, Const) and not np.any(value.array)


def _rnn_activation(node: OnnxNode) -> str:
    names = [str(a).lower() for a in node.attr("activations", ["Tanh"])]
    known = len(names) == 1 and names[0] in ("tanh", "relu", "sigmoid")
    node.require(known, f"activations {names}")
    return names[0]
