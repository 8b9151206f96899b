"""Hostile ONNX input: damaged bytes and nonsensical attributes, weights and wiring end in one
clear OnnxImportError line, never another exception (fixed seeds, a bounded number of cases)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest

from app.graph import io
from app.graph.onnx import OnnxImportError, export_onnx, import_model
from app.graph.onnx.reader import parse_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALUES = [0, -1, 1, 2, -5, 7, 10**9, -(10**9), 3]


def mutated(model: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    """``model`` with one attribute, wiring, weight shape or operator changed at random."""
    m = copy.deepcopy(model)
    node = m.graph.node[int(rng.integers(len(m.graph.node)))]
    pick = rng.random()
    if pick < 0.5 and node.attribute:
        attribute = node.attribute[int(rng.integers(len(node.attribute)))]
        if attribute.type == onnx.AttributeProto.INT:
            attribute.i = int(rng.choice(VALUES))
        elif attribute.type == onnx.AttributeProto.INTS:
            for k in range(len(attribute.ints)):
                attribute.ints[k] = int(rng.choice(VALUES))
        elif attribute.type == onnx.AttributeProto.FLOAT:
            attribute.f = float(rng.choice([0.0, -1.0, 1e30, float("nan")]))
    elif pick < 0.7 and len(node.input) > 1:
        node.input[0], node.input[1] = node.input[1], node.input[0]
    elif pick < 0.85:
        init = m.graph.initializer[int(rng.integers(len(m.graph.initializer)))]
        array = onnx.numpy_helper.to_array(init)
        shape = tuple(max(1, d + int(rng.integers(-1, 2))) for d in array.shape)
        init.CopyFrom(onnx.numpy_helper.from_array(np.resize(array, shape), init.name))
    else:
        node.op_type = str(rng.choice(["Relu", "Gemm", "LSTM", "Reshape", "Flatten", "Conv"]))
    return m


@pytest.mark.parametrize("name", ["digits_cnn", "char_lstm", "sine_lstm", "spiral"])
def test_mutated_models_are_refused_cleanly(name: str) -> None:
    base = export_onnx(io.load(EXAMPLES / f"{name}.nodegrad"))
    rng = np.random.default_rng(7)
    for _ in range(40):
        data = mutated(base, rng).SerializeToString()
        try:
            import_model(parse_model(data, "m"), "m")
        except OnnxImportError as error:
            assert "\n" not in str(error)


def test_damaged_bytes_are_refused_cleanly() -> None:
    data = export_onnx(io.load(EXAMPLES / "char_lstm.nodegrad")).SerializeToString()
    rng = np.random.default_rng(8)
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            damaged[int(rng.integers(len(damaged)))] = int(rng.integers(256))
        if rng.random() < 0.3:
            damaged = damaged[: int(rng.integers(len(damaged)))]
        try:
            import_model(parse_model(bytes(damaged), "m"), "m")
        except OnnxImportError as error:
            assert "\n" not in str(error)
