"""Stepper: node-by-node forward and backward passes that end with backward()'s gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.graph import io
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.session import Session
from app.graph.stepper import StepperState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def branching() -> GraphDocument:
    """Two branches from one layer, joined by an Add: backward ops of both interleave."""
    doc = GraphDocument()
    nodes = [
        ("data", "dataset", {"name": "spiral"}),
        ("stem", "linear", {"units": 8}),
        ("left", "linear", {"units": 8}),
        ("left_act", "tanh", {}),
        ("right", "linear", {"units": 8}),
        ("join", "add", {}),
        ("head", "linear", {"units": 3}),
        ("loss", "cross_entropy_loss", {}),
    ]
    for node_id, type_id, params in nodes:
        doc.add_node(type_id, params, node_id=node_id)
    wires = [
        ("data", "x", "stem", "x"), ("stem", "y", "left", "x"), ("left", "y", "left_act", "x"),
        ("stem", "y", "right", "x"), ("left_act", "y", "join", "a"), ("right", "y", "join", "b"),
        ("join", "y", "head", "x"), ("head", "y", "loss", "logits"),
        ("data", "y", "loss", "target"),
    ]  # fmt: skip
    for wire in wires:
        doc.connect(*wire)
    return doc


def reference_gradients(doc: GraphDocument, batch: tuple) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    """Parameter gradients of one plain forward + backward on a fresh compilation."""
    program = compile_document(doc)
    values = program.forward(*batch)
    program.loss(values).backward()
    return {name: p.grad.data.copy() for name, p in program.named_parameters()}


@pytest.mark.parametrize(
    "name", ["digits_cnn", "char_lstm", "branching", "residual_cnn", "gru_sine", "char_transformer"]
)
def test_stepping_to_the_end_gives_backwards_gradients(name: str) -> None:
    doc = branching() if name == "branching" else load(name)
    session = Session(doc)
    stepper = session.stepper()
    total = len(stepper.order)
    forward = [stepper.forward_step().node_id for _ in range(total)]
    assert forward == stepper.order
    backward = [stepper.backward_step().node_id for _ in range(total)]
    assert backward == stepper.order[::-1]
    assert stepper.state.phase == "done"
    expected = reference_gradients(doc, stepper.batch)
    for key, grad in expected.items():
        node_id, param = key.split(".", 1)
        np.testing.assert_array_equal(stepper.param_grads(node_id)[param], grad, err_msg=key)


def test_each_backward_step_reports_the_finished_gradients_of_its_node() -> None:
    doc = branching()
    stepper = Session(doc).stepper()
    results = {}
    for _ in range(2 * len(stepper.order)):
        result = (
            stepper.forward_step() if stepper.state.index < len(stepper.order)
            and stepper.state.phase in ("idle", "forward") else stepper.backward_step()
        )  # fmt: skip
        if result.grads:
            results[result.node_id] = result.grads
    expected = reference_gradients(doc, stepper.batch)
    # a node's gradients are final when its backward step returns
    np.testing.assert_array_equal(results["stem"]["weight"], expected["stem.weight"])
    np.testing.assert_array_equal(results["head"]["bias"], expected["head.bias"])
    assert set(results["join"]) == {"y"}
    assert results["join"]["y"].shape == (32, 8)
    assert results["loss"]["loss"] == pytest.approx(1.0)


def test_state_values_and_reset() -> None:
    stepper = Session(load("digits_mlp")).stepper()
    total = len(stepper.order)
    assert stepper.state == StepperState("idle", 0, total, None)
    first = stepper.forward_step()
    assert first.node_id == "data" and set(first.values) == {"x", "y"}
    assert first.values["x"].shape == (32, 64)
    dense = stepper.forward_step()
    assert stepper.state == StepperState("forward", 2, total, "dense1")
    np.testing.assert_array_equal(stepper.value("dense1")["y"], dense.values["y"])
    assert stepper.params("dense1")["weight"].shape == (64, 128)
    assert stepper.grad("dense1") == {} and stepper.param_grads("dense1") == {}
    result = stepper.backward_step()  # finishes the forward pass first
    assert result.node_id == stepper.order[-1]
    assert stepper.state.phase == "backward" and stepper.state.index == 1
    while stepper.state.phase != "done":
        stepper.backward_step()
    with pytest.raises(GraphError, match="backward pass is complete"):
        stepper.backward_step()
    with pytest.raises(GraphError, match="forward pass is complete"):
        stepper.forward_step()
    stepper.reset()
    assert stepper.state == StepperState("idle", 0, total, None)
    assert stepper.param_grads("dense1") == {}
    assert stepper.forward_step().node_id == "data"


def test_stepper_on_a_given_batch() -> None:
    session = Session(load("xor"))
    x = np.array([[0.0, 1.0]], dtype=np.float32)
    y = np.array([[1.0]], dtype=np.float32)
    stepper = session.stepper((x, y))
    while stepper.state.index < len(stepper.order) or stepper.state.phase == "idle":
        stepper.forward_step()
    assert stepper.value("out")["y"].shape == (1, 1)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["digits_cnn", "char_lstm"])
def test_stepping_on_the_gpu_matches_the_cpu(name: str) -> None:
    """On a GPU the stepper shows NumPy copies of the same values and gradients as on the CPU."""
    from engine import backend

    reason = backend.gpu_unavailable_reason()
    if reason is not None:
        pytest.skip(f"GPU tests skipped: {reason}")
    doc = load(name)
    doc.set_setting("device", "gpu")
    stepper = Session(doc).stepper()
    for _ in stepper.order:
        stepper.forward_step()
    for _ in stepper.order:
        stepper.backward_step()
    doc.set_setting("device", "cpu")
    batch = tuple(backend.to_numpy(part) for part in stepper.batch)
    expected = reference_gradients(doc, batch)
    for key, grad in expected.items():
        node_id, param = key.split(".", 1)
        shown = stepper.param_grads(node_id)[param]
        assert isinstance(shown, np.ndarray), key
        scale = float(np.abs(grad).max()) + 1e-12  # float32 sums run in another order there
        np.testing.assert_allclose(shown, grad, rtol=1e-3, atol=1e-4 * scale, err_msg=key)
    last = stepper.order[-1]
    assert all(isinstance(v, np.ndarray) for v in stepper.value(last).values())
