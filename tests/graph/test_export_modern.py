"""The modern node types in exported scripts: the engine script reproduces in-app training, and
the PyTorch script's model, given the engine's weights, computes the engine's loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import engine
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.export import export_python, export_torch
from app.graph.session import Session, StepMetrics

Node = tuple[str, str, dict[str, Any]]


def build(nodes: list[Node], wires: list[tuple[str, str, str, str]]) -> GraphDocument:
    doc = GraphDocument()
    for node_id, type_id, params in nodes:
        doc.add_node(type_id, params, node_id=node_id)
    for wire in wires:
        doc.connect(*wire)
    doc.set_setting("batch_size", 32)
    return doc


def sequence_zoo() -> GraphDocument:
    """Every sequence node type: GELU, Permute, Conv1d, SiLU, Positional embedding,
    self- and cross-attention, GRU and a causal transformer layer."""
    return build(
        [
            ("sine", "dataset", {"name": "sine_sequence", "seq_len": 12}),
            ("lift", "linear", {"units": 8}),
            ("gelu", "gelu", {"approximate": "tanh"}),
            ("to_channels", "permute", {"dims": "0,2,1"}),
            ("conv", "conv1d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
            ("silu", "silu", {}),
            ("to_steps", "permute", {"dims": "0,2,1"}),
            ("position", "positional_embedding", {"max_len": 16}),
            ("self_attn", "multihead_attention", {"heads": 2, "causal": True}),
            ("gru", "gru", {"hidden": 8}),
            ("block", "transformer_encoder", {"heads": 2, "dim_feedforward": 16, "causal": True}),
            ("cross", "multihead_attention", {"heads": 4}),
            ("gelu2", "gelu", {}),
            ("readout", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
        ],
        [
            ("sine", "x", "lift", "x"), ("lift", "y", "gelu", "x"),
            ("gelu", "y", "to_channels", "x"), ("to_channels", "y", "conv", "x"),
            ("conv", "y", "silu", "x"), ("silu", "y", "to_steps", "x"),
            ("to_steps", "y", "position", "x"), ("position", "y", "self_attn", "x"),
            ("self_attn", "y", "gru", "x"), ("gru", "y", "block", "x"),
            ("block", "y", "cross", "x"), ("gru", "y", "cross", "kv"),
            ("cross", "y", "gelu2", "x"), ("gelu2", "y", "readout", "x"),
            ("readout", "y", "loss", "pred"), ("sine", "y", "loss", "target"),
        ],
    )  # fmt: skip


def image_zoo() -> GraphDocument:
    """The image node types: BatchNorm2d, AvgPool2d and GlobalAvgPool2d."""
    return build(
        [
            ("data", "dataset", {"name": "digits", "images": True}),
            ("conv", "conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}),
            ("bn", "batch_norm2d", {}),
            ("pool", "avg_pool2d", {"kernel_size": 2, "stride": 2}),
            ("gap", "global_avg_pool2d", {}),
            ("logits", "linear", {"units": 10}),
            ("loss", "cross_entropy_loss", {}),
        ],
        [
            ("data", "x", "conv", "x"), ("conv", "y", "bn", "x"), ("bn", "y", "pool", "x"),
            ("pool", "y", "gap", "x"), ("gap", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"), ("data", "y", "loss", "target"),
        ],
    )  # fmt: skip


def attention_parts_zoo() -> GraphDocument:
    """Causal self-attention drawn from its parts (what an ONNX import gives): Linear
    projections, Permute, MatMul, Causal mask, Softmax."""
    return build(
        [
            ("sine", "dataset", {"name": "sine_sequence", "seq_len": 12}),
            ("lift", "linear", {"units": 8}),
            ("query", "linear", {"units": 8}),
            ("key", "linear", {"units": 8}),
            ("value", "linear", {"units": 8}),
            ("keys_t", "permute", {"dims": "0,2,1"}),
            ("scores", "matmul", {}),
            ("mask", "causal_mask", {}),
            ("weights", "softmax", {}),
            ("mix", "matmul", {}),
            ("readout", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
        ],
        [
            ("sine", "x", "lift", "x"), ("lift", "y", "query", "x"), ("lift", "y", "key", "x"),
            ("lift", "y", "value", "x"), ("key", "y", "keys_t", "x"),
            ("query", "y", "scores", "a"), ("keys_t", "y", "scores", "b"),
            ("scores", "y", "mask", "x"), ("mask", "y", "weights", "x"),
            ("weights", "y", "mix", "a"), ("value", "y", "mix", "b"),
            ("mix", "y", "readout", "x"), ("readout", "y", "loss", "pred"),
            ("sine", "y", "loss", "target"),
        ],
    )  # fmt: skip


ZOOS = {"sequence": sequence_zoo, "image": image_zoo, "attention_parts": attention_parts_zoo}


def run_script(code: str, epochs: int) -> tuple[dict[str, Any], Any, list[float]]:
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)
    model, losses = namespace["train"](epochs=epochs)
    return namespace, model, losses


@pytest.mark.parametrize("zoo", sorted(ZOOS))
def test_engine_script_reproduces_in_app_losses(zoo: str) -> None:
    doc = ZOOS[zoo]()
    _, _, losses = run_script(export_python(doc, zoo), epochs=1)
    expected = [e.loss for e in Session(doc).train(epochs=1) if isinstance(e, StepMetrics)]
    assert len(losses) == len(expected) > 1
    np.testing.assert_allclose(losses, expected, rtol=1e-4)


@pytest.mark.parametrize("zoo", sorted(ZOOS))
def test_torch_model_with_the_engine_weights_computes_the_engine_loss(zoo: str) -> None:
    torch = pytest.importorskip("torch")
    doc = ZOOS[zoo]()
    namespace, _, losses = run_script(export_torch(doc, zoo), epochs=1)
    assert np.isfinite(losses).all()
    engine.set_default_dtype(np.float64)
    try:
        program = compile_document(doc)
        model = namespace["Model"]().double()
        for node_id, module in program.modules.items():
            if module is not None and program.nodes[node_id].role.value != "loss":
                state = {k: torch.from_numpy(v) for k, v in module.torch_state_dict().items()}
                getattr(model, node_id).load_state_dict(state)
        program.eval()
        model.eval()
        assert program.dataset is not None
        x, y = program.dataset.x[:16], program.dataset.y[:16]
        ours = program.loss(program.forward(x, y)).item()
        with torch.no_grad():
            theirs = model(torch.from_numpy(np.asarray(x, dtype=np.float64)), torch.from_numpy(y))
        assert ours == pytest.approx(theirs[1].item(), rel=1e-7)
    finally:
        engine.set_default_dtype(np.float32)


@pytest.mark.parametrize("zoo", sorted(ZOOS))
def test_step_through_shows_each_new_nodes_output_and_gradient(zoo: str) -> None:
    doc = ZOOS[zoo]()
    stepper = Session(doc).stepper()
    total = len(stepper.order)
    for _ in range(total):
        stepper.forward_step()
    for _ in range(total):
        stepper.backward_step()
    for node_id in stepper.order:
        node = doc.nodes[node_id]
        if node.type_id in ("dataset", "mse_loss", "cross_entropy_loss"):
            continue
        value, grad = stepper.value(node_id)["y"], stepper.grad(node_id)["y"]
        assert value.shape == grad.shape and np.isfinite(grad).all(), node_id
        if node.type_id == "causal_mask":  # the future is hidden: -inf there, no gradient
            above = np.triu(np.ones(value.shape[-2:], dtype=bool), 1)
            assert np.isneginf(value[..., above]).all() and not grad[..., above].any()
        assert np.abs(grad).sum() > 0, node_id
        params = stepper.params(node_id)
        assert set(stepper.param_grads(node_id)) == set(params), node_id
