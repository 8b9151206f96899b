"""A model fed by an Input node (an imported ONNX model, a model drawn for inference) exports
as an inference-only script: ``build_model()`` with the weights written beside it,
``predict(x)`` equal to the engine's output, and a ``main()`` that runs it on zeros."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.graph.blocks.grouping import group
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.export import export_python, export_torch, write_export
from app.graph.onnx import compile_for_inference


def mlp_for_inference() -> GraphDocument:
    """Input(4) -> Linear(8) -> ReLU -> Linear(3) -> Output: no Dataset, no loss."""
    doc = GraphDocument()
    doc.add_node("input", {"shape": "4"}, node_id="features")
    doc.add_node("linear", {"units": 8}, node_id="hidden")
    doc.add_node("relu", node_id="act")
    doc.add_node("linear", {"units": 3}, node_id="head")
    doc.add_node("output", node_id="out")
    doc.connect("features", "x", "hidden", "x")
    doc.connect("hidden", "y", "act", "x")
    doc.connect("act", "y", "head", "x")
    doc.connect("head", "y", "out", "x")
    return doc


def language_model_for_inference() -> GraphDocument:
    """Input of 6 character indices -> Embedding -> GRU -> Linear: integer input."""
    doc = GraphDocument()
    doc.add_node("input", {"shape": "6", "dtype": "int"}, node_id="chars")
    doc.add_node("embedding", {"vocab_size": 12, "dim": 5}, node_id="embed")
    doc.add_node("gru", {"hidden": 7}, node_id="gru")
    doc.add_node("linear", {"units": 12}, node_id="head")
    doc.add_node("output", node_id="out")
    doc.connect("chars", "x", "embed", "x")
    doc.connect("embed", "y", "gru", "x")
    doc.connect("gru", "y", "head", "x")
    doc.connect("head", "y", "out", "x")
    return doc


def moved_weights(doc: GraphDocument) -> dict[str, np.ndarray]:
    """The program's initial weights, each moved (so a script that ignored them would differ)."""
    rng = np.random.default_rng(3)
    state = compile_for_inference(doc).state_dict()
    return {k: (v + rng.uniform(0.05, 0.3, v.shape)).astype(v.dtype) for k, v in state.items()}


def engine_output(doc: GraphDocument, weights: dict[str, np.ndarray], x: np.ndarray) -> Any:
    program = compile_for_inference(doc, weights)
    feed = next(n for n, node in program.nodes.items() if node.role.value == "input")
    prediction = program.prediction(program.forward(x, x, {feed: x}))
    assert prediction is not None
    return prediction.numpy()


def grouped_mlp_for_inference() -> GraphDocument:
    """The MLP with its hidden layer and activation grouped into a block (a class in the
    script, the Input node still the batch)."""
    doc = mlp_for_inference()
    doc.apply(group(doc, ["hidden", "act"], name="dense_relu"))
    return doc


CASES = {
    "mlp": (mlp_for_inference, lambda rng: rng.normal(size=(5, 4)).astype(np.float32)),
    "grouped": (grouped_mlp_for_inference, lambda rng: rng.normal(size=(5, 4)).astype(np.float32)),
    "chars": (language_model_for_inference, lambda rng: rng.integers(0, 12, size=(5, 6))),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("target", ["python", "torch"])
def test_predict_gives_the_engines_output(case: str, target: str, tmp_path: Path) -> None:
    if target == "torch":
        pytest.importorskip("torch")
    build, batch = CASES[case]
    doc = build()
    weights = moved_weights(doc)
    script, weights_npz = write_export(doc, target, tmp_path / "model.py", weights)  # type: ignore[arg-type]
    assert weights_npz.exists()
    x = batch(np.random.default_rng(0))
    got = runpy.run_path(str(script), run_name="exported")["predict"](x)
    np.testing.assert_allclose(got, engine_output(doc, weights, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("exporter", [export_python, export_torch])
def test_the_script_is_inference_only_and_runs_on_zeros(
    exporter: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if exporter is export_torch:
        pytest.importorskip("torch")
    code = exporter(language_model_for_inference(), "chars")  # train=True asks for a loop
    assert "def train(" not in code and "INPUT_SHAPE = (6,)" in code
    assert "An Input node feeds the model, so there is no data to train on" in code
    path = tmp_path / "chars.py"
    path.write_text(code, encoding="utf-8")
    runpy.run_path(str(path), run_name="__main__")
    assert "chars: output of shape (2, 6, 12) for input of shape (2, 6)" in capsys.readouterr().out


def test_an_input_beside_a_dataset_is_refused_with_its_node() -> None:
    from tests.graph.test_blocks import mlp

    doc = mlp()
    doc.add_node("input", {"shape": "4"}, node_id="extra")
    doc.add_node("linear", {"units": 2}, node_id="side")
    doc.connect("extra", "x", "side", "x")
    with pytest.raises(GraphError, match="Input node 'extra' cannot be exported beside a Dataset"):
        export_python(doc)
