"""Exports of graphs with blocks: one engine ``Layer`` / one ``nn.Module`` class per block
definition (written once however many instances), exposed parameters as constructor arguments,
a repeated block as chained instances, nested blocks nested; the engine script trains as the
editor does, the carried weights land on the block structure, and ONNX flattens."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_export import assert_ruff_clean, in_app_losses, run_script
from test_export_carry import engine_prediction, trained_weights

from app.cli import main
from app.graph import io
from app.graph import mutations as mu
from app.graph.blocks.grouping import expose, group
from app.graph.document import GraphDocument
from app.graph.export import export_python, export_torch, write_export
from app.graph.session import Session
from app.graph.specs.blocks import BLOCK

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RESIDUAL = ["conv1", "bn1", "relu1", "conv2", "bn2", "skip", "block_relu"]


def residual_blocks(channels: int = 8) -> GraphDocument:
    """The residual CNN (narrowed to ``channels``) with its residual block grouped, repeated
    twice, its conv-BN-ReLU grouped inside it, and the second convolution's width exposed."""
    doc = io.load(EXAMPLES / "residual_cnn.nodegrad")
    for conv in ("stem", "conv1", "conv2"):
        doc.set_param(conv, "out_channels", channels)
    doc.apply(group(doc, RESIDUAL, name="residual"))
    doc.apply(group(doc, ["conv1", "bn1", "relu1"], scope="residual", name="conv_bn_relu"))
    doc.apply(expose(doc, "residual", "conv2", "out_channels", "channels"))
    doc.set_param("residual_1", "repeat", 2)
    doc.set_setting("epochs", 1)
    return doc


def spiral_blocks() -> GraphDocument:
    """The spiral classifier whose Linear + ReLU is a block used twice, at different widths:
    its input size differs between the instances and its ``units`` is exposed."""
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["dense1", "relu1"], name="dense_relu"))
    doc.apply(expose(doc, "dense_relu", "dense1", "units"))
    block = doc.blocks["dense_relu"]
    edge = next(e for e in doc.edges if e.src == "dense_relu_1")
    doc.disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port)
    second = mu.Node("second", BLOCK, block.instance_params({"units": 12}), (0.0, 0.0), block=block)
    doc.apply(mu.AddNode(second, (mu.Edge("dense_relu_1", "y", "second", "x"),)))
    doc.connect("second", "y", edge.dst, edge.dst_port)
    doc.set_param("dense_relu_1", "units", 20)
    return doc


def test_engine_script_writes_one_layer_per_definition_and_trains_as_the_editor() -> None:
    doc = residual_blocks()
    code = export_python(doc, "residual")
    assert code.count("class Residual(Layer):") == 1
    assert code.count("class ConvBnRelu(Layer):") == 1
    where = [code.index(f"class {name}(") for name in ("ConvBnRelu", "Residual", "Model")]
    assert where == sorted(where)  # each class after the ones it uses
    assert "def __init__(self, channels=8):" in code
    assert "self.conv2 = Conv2d(8, channels, 3, stride=1, padding=1)" in code
    assert "self.bn2 = BatchNorm2d(channels)" in code  # inferred from the exposed width
    assert "self.conv_bn_relu_1 = ConvBnRelu()" in code
    assert "        self.residual_1 = Residual(channels=8)\n" in code
    assert "        self.residual_1_r2 = Residual(channels=8)\n" in code
    assert "residual_1_r2 = self.residual_1_r2(residual_1)" in code
    assert "res" + "idual_1__" not in code  # no flat ids
    _, losses = run_script(code, epochs=1)
    np.testing.assert_allclose(losses, in_app_losses(doc, 1), rtol=1e-5)


def test_torch_script_writes_one_module_per_definition(tmp_path: Path, torch: Any) -> None:
    doc = residual_blocks()
    code = export_torch(doc, "residual")
    assert code.count("class Residual(nn.Module):") == 1
    assert code.count("class ConvBnRelu(nn.Module):") == 1
    assert "self.conv2 = nn.Conv2d(8, channels, 3, stride=1, padding=1)" in code
    path = tmp_path / "residual_torch.py"
    path.write_text(code, encoding="utf-8")
    engine_path = tmp_path / "residual_engine.py"
    engine_path.write_text(export_python(doc, "residual"), encoding="utf-8")
    assert_ruff_clean(path, engine_path)
    namespace = runpy.run_path(str(path), run_name="exported")
    model = namespace["Model"]()
    assert isinstance(model.residual_1_r2.conv_bn_relu_1.conv1, torch.nn.Conv2d)
    engine_count = sum(p.size for _, p in Session(doc).program.named_parameters())
    assert sum(p.numel() for p in model.parameters()) == engine_count
    _, losses = namespace["train"](epochs=1)
    assert np.isfinite(losses).all() and np.mean(losses[-5:]) < losses[0]


def test_values_that_differ_between_instances_become_arguments() -> None:
    doc = spiral_blocks()
    code = export_python(doc, "spiral")
    assert code.count("class DenseRelu(Layer):") == 1
    assert "def __init__(self, dense1_in_features, units=64):" in code
    assert "self.dense1 = Linear(dense1_in_features, units, bias=True)" in code
    assert "self.dense_relu_1 = DenseRelu(dense1_in_features=2, units=20)" in code
    assert "self.second = DenseRelu(dense1_in_features=20, units=12)" in code
    _, losses = run_script(code, epochs=3)
    np.testing.assert_allclose(losses, in_app_losses(doc, 3), rtol=1e-5)
    torch_code = export_torch(doc, "spiral")
    assert "self.dense1 = nn.Linear(dense1_in_features, units, bias=True)" in torch_code


def test_an_exposed_parameter_of_an_inner_block_is_passed_down() -> None:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["dense1", "relu1"], name="dense_relu"))
    doc.apply(expose(doc, "dense_relu", "dense1", "units"))
    doc.apply(group(doc, ["dense_relu_1", "dense2"], name="outer"))
    doc.apply(expose(doc, "outer", "dense_relu_1", "units", "width"))
    doc.set_param("outer_1", "width", 16)
    code = export_python(doc, "spiral")
    assert "def __init__(self, width=64):" in code
    assert "self.dense_relu_1 = DenseRelu(units=width)" in code
    assert "self.dense2 = Linear(width, 64, bias=True)" in code  # follows the width
    assert "self.outer_1 = Outer(width=16)" in code
    _, losses = run_script(code, epochs=2)
    np.testing.assert_allclose(losses, in_app_losses(doc, 2), rtol=1e-5)


def test_the_library_transformer_block_repeated_exports_as_one_class(tmp_path: Path) -> None:
    from app.graph.blocks.library import BUILTIN_FOLDER, insert_block, load_block

    doc = io.load(EXAMPLES / "char_transformer.nodegrad")
    doc.set_param("embed", "dim", 32)  # the width of the library's transformer block
    doc.remove_node("block1")
    doc.remove_node("block2")
    source = load_block(BUILTIN_FOLDER / "transformer.nodegrad-block")
    doc.apply(insert_block(doc, source, (0.0, 0.0)))
    doc.connect("position", "y", "transformer_1", "x")
    doc.connect("transformer_1", "y", "logits", "x")
    doc.set_param("transformer_1", "repeat", 2)
    doc.set_param("transformer_1", "causal", True)
    code, torch_code = export_python(doc, "tf"), export_torch(doc, "tf")
    assert code.count("class Transformer(Layer):") == 1
    assert torch_code.count("class Transformer(nn.Module):") == 1
    assert "self.causal = causal" in code and "causal=self.causal" in code
    assert "self.transformer_1_r2 = Transformer(" in code
    paths = [tmp_path / "engine.py", tmp_path / "torch.py"]
    for path, text in zip(paths, (code, torch_code), strict=True):
        path.write_text(text, encoding="utf-8")
    assert_ruff_clean(*paths)
    _, losses = run_script(code, epochs=1)
    np.testing.assert_allclose(losses, in_app_losses(doc, 1), rtol=1e-5)


@pytest.mark.parametrize("target", ["python", "torch"])
def test_carried_weights_land_on_the_blocks(target: str, tmp_path: Path, torch: Any) -> None:
    doc = residual_blocks()
    session, weights = trained_weights(doc)
    assert "residual_1_r2__conv_bn_relu_1__conv1.weight" in weights
    written = write_export(doc, target, tmp_path / "res.py", weights)  # type: ignore[arg-type]
    with np.load(written[1], allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    assert {"residual_1_r2.conv_bn_relu_1.conv1.weight", "residual_1.conv2.weight"} <= set(arrays)
    script = runpy.run_path(str(written[0]), run_name="exported")
    data = session.val_set
    x = data.x[:64]
    expected = engine_prediction(session, weights, x, data.y[:64])
    np.testing.assert_allclose(script["predict"](x), expected, rtol=1e-4, atol=1e-5)
    inner = script["build_model"]().residual_1_r2.conv_bn_relu_1.conv1.weight
    loaded = inner.detach().numpy() if target == "torch" else inner.numpy()
    np.testing.assert_array_equal(loaded, arrays["residual_1_r2.conv_bn_relu_1.conv1.weight"])
    if target == "python":  # the engine's own layout: the editor's array itself
        flat = weights["residual_1_r2__conv_bn_relu_1__conv1.weight"]
        np.testing.assert_array_equal(loaded, flat)


@pytest.mark.parametrize("target", ["python", "torch"])
def test_inference_only_script_of_blocks(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], torch: Any
) -> None:
    doc = spiral_blocks()
    graph = tmp_path / "blocks.nodegrad"
    io.save(doc, graph)
    session, weights = trained_weights(io.load(graph))
    io.save_weights(weights, io.weights_path(graph))
    out = tmp_path / "infer.py"
    assert main(["export", str(graph), "--to", target, "-o", str(out), "--no-train"]) == 0
    code = out.read_text(encoding="utf-8")
    assert "def train(" not in code and code.count("class DenseRelu(") == 1
    script = runpy.run_path(str(out), run_name="exported")
    x, y = session.val_set.x, session.val_set.y
    np.testing.assert_allclose(
        script["predict"](x), engine_prediction(session, weights, x, y), rtol=1e-4, atol=1e-5
    )
    capsys.readouterr()
    runpy.run_path(str(out), run_name="__main__")
    assert "blocks: loss " in capsys.readouterr().out


def test_a_block_holding_a_loss_is_written_flat() -> None:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["logits", "loss"], name="head"))
    code = export_python(doc, "spiral")
    assert "class Head(" not in code and "self.head_1__logits = " in code
    _, losses = run_script(code, epochs=2)
    np.testing.assert_allclose(losses, in_app_losses(doc, 2), rtol=1e-5)


def test_engine_keeps_the_editors_build_order_over_classes() -> None:
    """A node beside the block that the editor builds between the block's nodes: the engine
    script is written flat (so it starts from the editor's weights); PyTorch keeps the class."""
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.add_node("linear", {"units": 64}, node_id="side")
    doc.add_node("add", {}, node_id="join")
    doc.connect("relu1", "y", "side", "x")
    doc.disconnect("relu2", "y", "logits", "x")
    doc.connect("relu2", "y", "join", "a")
    doc.connect("side", "y", "join", "b")
    doc.connect("join", "y", "logits", "x")
    doc.apply(group(doc, ["dense2", "relu2"], name="mid"))
    code = export_python(doc, "spiral")
    assert "class Mid(" not in code and "self.mid_1__dense2 = " in code
    _, losses = run_script(code, epochs=2)
    np.testing.assert_allclose(losses, in_app_losses(doc, 2), rtol=1e-5)
    assert export_torch(doc, "spiral").count("class Mid(nn.Module):") == 1


def test_a_block_with_two_outputs_returns_both() -> None:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.add_node("add", {}, node_id="both")
    doc.disconnect("relu1", "y", "dense2", "x")
    doc.connect("dense1", "y", "both", "a")
    doc.connect("relu1", "y", "both", "b")
    doc.connect("both", "y", "dense2", "x")
    doc.apply(group(doc, ["dense1", "relu1"], name="pair"))
    code = export_python(doc, "spiral")
    assert "        return dense1, relu1\n" in code
    assert "pair_1_y, pair_1_y_2 = self.pair_1(x)" in code
    assert "both = pair_1_y + pair_1_y_2" in code
    _, losses = run_script(code, epochs=2)
    np.testing.assert_allclose(losses, in_app_losses(doc, 2), rtol=1e-5)


def test_block_classes_parse_and_name_no_flat_node() -> None:
    tree = ast.parse(export_torch(spiral_blocks(), "spiral"))
    classes = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    assert classes == ["DenseRelu", "Model"]


def test_onnx_export_of_a_grouped_graph_matches_onnx_runtime() -> None:
    pytest.importorskip("onnxruntime")
    from onnx_cases import run_onnx

    from app.graph.compile import compile_document
    from app.graph.onnx import export_onnx

    doc = residual_blocks(channels=4)
    program = compile_document(doc)
    rng = np.random.default_rng(3)
    trained = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in program.state_dict().items()}
    model = export_onnx(doc, trained)
    program.load_state_dict(trained)
    program.eval()
    assert program.dataset is not None
    x, y = program.dataset.x[:16], program.dataset.y[:16]
    expected = program.prediction(program.forward(x, y)).numpy()  # type: ignore[union-attr]
    got = run_onnx(model.SerializeToString(), {"input": x.astype(np.float32)})
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


@pytest.fixture
def torch() -> Any:
    """PyTorch on one thread (its thread pool only fights the other tests for the cores)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)
