"""The node type registry: every spec is complete, its defaults valid and its shapes real."""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import pytest

from app.graph.document import GraphDocument
from app.graph.errors import GraphError, ParamError, ShapeError, UnknownNodeType
from app.graph.specs import (
    REGISTRY,
    Category,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    Role,
    all_specs,
    format_shape,
    get_spec,
    kinds_compatible,
    register,
)

SPECS = all_specs()
IDS = [s.type_id for s in SPECS]
ISSUE_TITLES = {
    "Dataset",
    "Input",
    "Constant",
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
    "Reshape",
    "Dropout",
    "BatchNorm1d",
    "LayerNorm",
    "Embedding",
    "RNN",
    "LSTM",
    "Tanh",
    "Sigmoid",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Add",
    "Multiply",
    "Concat",
    "MatMul",
    "Sum",
    "Mean",
    "MSE loss",
    "Cross-entropy loss",
    "BCE-with-logits loss",
    "Output",
    # issue 14: modern networks
    "GELU",
    "SiLU",
    "Conv1d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "BatchNorm2d",
    "GRU",
    "Multi-head attention",
    "Positional embedding",
    "Transformer encoder layer",
    "Permute",
    # ONNX import of causal attention (an exported char_transformer comes back)
    "Causal mask",
}


def test_every_node_type_of_the_issue_is_declared() -> None:
    assert {s.title for s in SPECS} == ISSUE_TITLES
    assert len(REGISTRY) == len(ISSUE_TITLES)


def test_palette_order_follows_the_categories() -> None:
    ranks = [list(Category).index(s.category) for s in SPECS]
    assert ranks == sorted(ranks)
    # Blocks come from the document (and the block library), not from node types.
    assert {s.category for s in SPECS} == set(Category) - {Category.BLOCKS}


def test_duplicate_type_id_raises() -> None:
    spec = get_spec("linear")
    with pytest.raises(GraphError, match="declared twice"):
        register(spec)
    assert REGISTRY["linear"] is spec


def test_unknown_type_raises() -> None:
    with pytest.raises(UnknownNodeType, match="'nope'"):
        get_spec("nope")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_declaration_is_complete(spec: NodeSpec) -> None:
    assert spec.help and spec.title and spec.type_id.isidentifier()
    for group in (spec.inputs, spec.outputs, spec.params):
        names = [item.name for item in group]
        assert len(names) == len(set(names))
        assert all(n.isidentifier() for n in names)
    for p in spec.params:
        assert p.help, f"{spec.type_id}.{p.name} has no help"
        assert p.coerce(p.default) == p.default
        if p.type is ParamType.CHOICE:
            assert p.default in (p.choices or ())
        if p.when is not None:
            assert p.when[0] in {q.name for q in spec.params}
    assert spec.coerce_params({}) == spec.default_params()
    assert isinstance(spec.summary(spec.default_params()), str)
    if spec.role is Role.LAYER:
        assert spec.build is not None and spec.count is not None
    if spec.role is Role.DATA:
        assert spec.load is not None and {p.name for p in spec.outputs} == {"x", "y"}


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.role is not Role.DATA], ids=lambda s: s.type_id
)
def test_defaults_infer_a_shape_for_every_output(spec: NodeSpec) -> None:
    shapes = spec.infer(spec.default_params(), spec.example_inputs())
    assert set(shapes) == {p.name for p in spec.outputs}
    assert spec.param_count(spec.default_params(), spec.example_inputs()) >= 0


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_node_of_each_type_round_trips_through_a_dict(spec: NodeSpec) -> None:
    doc = GraphDocument()
    doc.add_node(spec.type_id, position=(1.5, -2))
    doc.set_label(f"{spec.type_id}_1", "mine")
    again = GraphDocument.from_dict(doc.to_dict())
    assert again.to_dict() == doc.to_dict()
    assert again.nodes[f"{spec.type_id}_1"] == doc.nodes[f"{spec.type_id}_1"]


def _dummy(shape: tuple[int | None, ...], kind: PortKind, high: int) -> np.ndarray:
    real = tuple(3 if d is None else d for d in shape)
    rng = np.random.default_rng(0)
    if kind is PortKind.INDICES:
        return rng.integers(0, high, size=real)
    return rng.normal(size=real).astype(np.float32)


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.forward is not None], ids=lambda s: s.type_id
)
def test_inferred_shapes_match_the_engine_forward(spec: NodeSpec) -> None:
    engine = pytest.importorskip("engine")
    params, shapes = spec.default_params(), spec.example_inputs()
    expected = spec.infer(params, shapes)
    classes = min(features(shapes.get("logits", (None, 3))), params.get("vocab_size", 3))
    inputs = {
        port.name: engine.Tensor(_dummy(shapes[port.name], port.kind, classes))
        for port in spec.inputs
    }
    if spec.role in (Role.DATA, Role.INPUT):
        inputs = {
            p.name: engine.Tensor(_dummy((None, 4), PortKind.TENSOR, 1)) for p in spec.outputs
        }
        expected = {p.name: (None, 4) for p in spec.outputs}
    module = spec.build(params, shapes) if spec.build else None
    out = spec.forward(module, params, inputs)
    got = {port: tuple(t.shape) for port, t in out.items()}
    want = {port: tuple(3 if d is None else d for d in s) for port, s in expected.items()}
    if spec.role is Role.LOSS:
        assert math.prod(got["loss"]) == 1
    else:
        assert got == want
    if module is not None and spec.count is not None:
        total = sum(p.data.size for p in module.parameters())
        assert total == spec.param_count(params, shapes)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_code_templates_render_to_valid_python(spec: NodeSpec) -> None:
    params, shapes = spec.default_params(), spec.example_inputs()
    if spec.role is Role.DATA:
        params["name"] = "iris"
    values: dict[str, Any] = {**params, "name": "node_1"}
    values.update({port.name: f"h_{port.name}" for port in spec.inputs})
    if spec.template_values is not None:
        values.update(spec.template_values(params, shapes))
    for template in (spec.engine_code, spec.torch_code):
        for part in (template.init, template.call):
            if part:
                ast.parse(part.format(**values), mode="eval")
    if spec.role in (Role.LAYER, Role.LOSS):
        assert spec.engine_code.init and spec.torch_code.init
    if spec.role in (Role.LAYER, Role.OP, Role.LOSS):
        assert spec.engine_code.call and spec.torch_code.call


def features(shape: tuple[Any, ...]) -> int:
    return int(shape[-1])


@pytest.mark.parametrize(
    ("type_id", "shapes", "message"),
    [
        ("linear", {"x": (None, 1, 8, 8)}, "Linear expects N×F .* got N×1×8×8; add a Flatten"),
        ("conv2d", {"x": (None, 64)}, "Conv2d expects N×C×H×W .* add a Reshape to 1,8,8"),
        ("conv2d", {"x": (None, 1, 2, 2)}, "window 3×3 does not fit the 2×2 image"),
        ("reshape", {"x": (None, 10)}, "Reshape to 1,8,8 needs 64 values per sample"),
        ("lstm", {"x": (None, 25)}, "LSTM expects N×T×F .* add an Embedding"),
        ("batch_norm1d", {"x": (None, 2, 3)}, "add a Flatten"),
        ("add", {"a": (None, 3), "b": (None, 4)}, "Add cannot combine N×3 with N×4"),
        ("matmul", {"a": (None, 3), "b": (4, 2)}, "MatMul cannot multiply N×3 by 4×2"),
        ("concat", {"a": (None, 3), "b": (None, 2, 3)}, "Concat along dim -1 cannot join"),
        ("mse_loss", {"pred": (None, 3), "target": (None, 1)}, "output N×1"),
        ("cross_entropy_loss", {"logits": (None, 3), "target": (None, 3, 2)}, "logits N×3"),
        ("softmax", {"x": (None, 3)}, None),
    ],
)
def test_shape_errors_name_both_shapes_and_the_fix(
    type_id: str, shapes: dict, message: str | None
) -> None:
    spec = get_spec(type_id)
    params = spec.default_params()
    if message is None:
        params["dim"] = 0
        message = "pick a dimension after the batch"
    with pytest.raises(ShapeError, match=message):
        spec.infer(params, shapes)


def test_reshape_infers_the_minus_one_size() -> None:
    spec = get_spec("reshape")
    assert spec.infer({"shape": "4,-1"}, {"x": (None, 2, 6)}) == {"y": (None, 4, 3)}


def test_shapes_of_sequences_flow_through_linear_and_losses() -> None:
    y = get_spec("linear").infer({"units": 49, "bias": True}, {"x": (None, 25, 32)})["y"]
    assert y == (None, 25, 49)
    ce = get_spec("cross_entropy_loss")
    assert ce.infer({}, {"logits": y, "target": (None, 25)}) == {"loss": ()}


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (ParamSpec("units", ParamType.INT, 8, minimum=1), -4, "expected a positive int, got -4"),
        (ParamSpec("units", ParamType.INT, 8, minimum=1), 2.5, "expected a positive int"),
        (ParamSpec("units", ParamType.INT, 8, minimum=1), True, "got True"),
        (ParamSpec("p", ParamType.FLOAT, 0.5, minimum=0, maximum=1), 2, "number <= 1, got 2"),
        (ParamSpec("p", ParamType.FLOAT, 0.5), float("nan"), "expected a number"),
        (ParamSpec("b", ParamType.BOOL, False), 1, "expected true or false"),
        (ParamSpec("c", ParamType.CHOICE, "a", choices=("a", "b")), "z", "one of 'a', 'b'"),
        (ParamSpec("s", ParamType.STR, ""), 3, "expected a string"),
    ],
)
def test_param_coerce_refuses_with_a_reason(param: ParamSpec, value: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message) as info:
        param.coerce(value)
    assert info.value.port == param.name


def test_param_coerce_widens_ints_to_floats_and_runs_extra_checks() -> None:
    assert ParamSpec("p", ParamType.FLOAT, 0.5).coerce(1) == 1.0
    shape = get_spec("reshape").param("shape")
    assert shape.coerce("2,-1") == "2,-1"
    with pytest.raises(ParamError, match="at most one size may be -1"):
        shape.coerce("-1,-1")
    with pytest.raises(ParamError, match="whole numbers"):
        shape.coerce("a,b")


def test_kinds() -> None:
    assert kinds_compatible(PortKind.DATA, PortKind.TENSOR)
    assert kinds_compatible(PortKind.TENSOR, PortKind.TENSOR)
    assert not kinds_compatible(PortKind.TENSOR, PortKind.INDICES)
    assert not kinds_compatible(PortKind.LOSS, PortKind.TENSOR)


def test_active_params_follow_the_dataset_name() -> None:
    spec = get_spec("dataset")
    names = lambda p: [q.name for q in spec.active_params(p)]  # noqa: E731
    assert names({**spec.default_params(), "name": "csv"}) == ["name", "path", "target"]
    assert names({**spec.default_params(), "name": "digits"}) == ["name", "images"]


def test_dataset_shapes_come_from_the_real_data() -> None:
    spec = get_spec("dataset")
    params = {**spec.default_params(), "name": "digits", "images": True}
    assert spec.infer(params, {}) == {"x": (None, 1, 8, 8), "y": (None,)}
    params = {**spec.default_params(), "name": "text", "seq_len": 10}
    assert spec.infer(params, {}) == {"x": (None, 10), "y": (None, 10)}


def test_dataset_file_errors_name_the_file(tmp_path: Any) -> None:
    spec = get_spec("dataset")
    with pytest.raises(ShapeError, match="needs a file"):
        spec.infer({**spec.default_params(), "name": "csv"}, {})
    missing = str(tmp_path / "gone.csv")
    with pytest.raises(ShapeError, match=r"gone\.csv"):
        spec.infer({**spec.default_params(), "name": "csv", "path": missing}, {})


def test_format_shape() -> None:
    assert format_shape((None, 64)) == "N×64"
    assert format_shape((None, 1, 8, 8)) == "N×1×8×8"


@pytest.mark.parametrize(
    ("type_id", "params", "shapes"),
    [
        (
            "conv2d",
            {"out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1},
            {"x": (None, 2, 7, 9)},
        ),
        ("max_pool2d", {"kernel_size": 3, "stride": 1}, {"x": (None, 2, 5, 6)}),
        ("linear", {"units": 5, "bias": False}, {"x": (None, 4, 7)}),
        ("rnn", {"hidden": 3, "activation": "relu"}, {"x": (None, 6, 2)}),
        ("sum", {"dim": 1, "keepdims": True, "all": False}, {"x": (None, 3, 4)}),
        ("mean", {"dim": -1, "keepdims": False, "all": True}, {"x": (None, 3, 4)}),
        ("concat", {"dim": 1}, {"a": (None, 2, 4), "b": (None, 3, 4)}),
        ("add", {}, {"a": (None, 3, 4), "b": (4,)}),
        ("softmax", {"dim": 1}, {"x": (None, 3, 4)}),
        ("reshape", {"shape": "-1,2"}, {"x": (None, 3, 4)}),
        ("embedding", {"vocab_size": 5, "dim": 2}, {"x": (None, 4)}),
    ],
)
def test_non_default_params_infer_what_the_engine_computes(
    type_id: str, params: dict[str, Any], shapes: dict[str, Any]
) -> None:
    engine = pytest.importorskip("engine")
    spec = get_spec(type_id)
    params = spec.coerce_params(params)
    expected = spec.infer(params, shapes)["y"]
    inputs = {
        p.name: engine.Tensor(_dummy(shapes[p.name], p.kind, params.get("vocab_size", 1)))
        for p in spec.inputs
    }
    module = spec.build(params, shapes) if spec.build else None
    got = tuple(spec.forward(module, params, inputs)["y"].shape)
    assert got == tuple(3 if d is None else d for d in expected)
