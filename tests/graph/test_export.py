"""export_python / export_torch: the scripts run, reproduce in-app training and pass ruff."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.export import export_python, export_torch
from app.graph.session import Session, StepMetrics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
RUFF = Path(sys.executable).parent / "ruff"
NAMES = ["xor", "spiral", "digits_mlp", "digits_cnn", "char_lstm", "sine_lstm"]


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def run_script(code: str, epochs: int) -> tuple[Any, list[float]]:
    """Exec a generated script as a module (not as __main__) and call its train()."""
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)
    return namespace["train"](epochs=epochs)


def assert_ruff_clean(*paths: Path) -> None:
    """``ruff check`` with the project's settings passes on ``paths`` (skipped without ruff)."""
    if not RUFF.exists():
        return
    done = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
         *map(str, paths)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def in_app_losses(doc: GraphDocument, epochs: int) -> list[float]:
    return [e.loss for e in Session(doc).train(epochs=epochs) if isinstance(e, StepMetrics)]


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn", "char_lstm", "sine_lstm"])
def test_engine_script_reproduces_in_app_losses(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = load(name)
    _, losses = run_script(export_python(doc, name), epochs=1)
    expected = in_app_losses(doc, epochs=1)
    assert len(losses) == len(expected) > 1
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    assert "epoch 1/1: loss" in capsys.readouterr().out


def test_script_reproduces_dropout_masks() -> None:
    doc = load("spiral")
    doc.add_node("dropout", {"p": 0.3}, node_id="drop")
    doc.connect("relu1", "y", "drop", "x")
    doc.connect("drop", "y", "dense2", "x")
    code = export_python(doc)
    assert "self.drop = Dropout(0.3)" in code
    _, losses = run_script(code, epochs=2)
    np.testing.assert_allclose(losses, in_app_losses(doc, 2), rtol=1e-5)


def test_two_losses_are_summed_in_both() -> None:
    doc = load("spiral")
    doc.add_node("cross_entropy_loss", {}, node_id="aux")
    doc.add_node("linear", {"units": 3}, node_id="probe")
    doc.connect("relu1", "y", "probe", "x")
    doc.connect("probe", "y", "aux", "logits")
    doc.connect("data", "y", "aux", "target")
    code = export_python(doc)
    assert "return logits, aux + loss" in code or "return logits, loss + aux" in code
    _, losses = run_script(code, epochs=1)
    np.testing.assert_allclose(losses, in_app_losses(doc, 1), rtol=1e-5)


def test_script_without_validation_split_reproduces_several_epochs() -> None:
    doc = load("xor")
    _, losses = run_script(export_python(doc), epochs=30)
    np.testing.assert_allclose(losses, in_app_losses(doc, 30), rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_generated_code_is_ruff_clean(name: str, tmp_path: Path) -> None:
    if not RUFF.exists():
        pytest.skip("ruff is not installed beside this Python")
    doc = load(name)
    paths = []
    for flavor, code in (("engine", export_python(doc, name)), ("torch", export_torch(doc, name))):
        ast.parse(code)
        path = tmp_path / f"{name}_{flavor}.py"
        path.write_text(code, encoding="utf-8")
        paths.append(path)
    assert_ruff_clean(*paths)


def test_nodes_named_as_the_scripts_modules_are_renamed(tmp_path: Path) -> None:
    """A node id equal to a module the script imports (``sys`` for the torchrun exit, ``dist``,
    ``os``...) would be bound in ``forward`` and hide the import: it is renamed instead."""
    doc = load("digits_mlp")
    doc.disconnect("relu1", "y", "logits", "x")
    names = ["sys", "os", "dist", "functools", "csv", "datasets", "np", "torch", "nn"]
    previous = "relu1"
    for name in names:
        doc.add_node("dropout", {"p": 0.1}, node_id=name)
        doc.connect(previous, "y", name, "x")
        previous = name
    doc.connect(previous, "y", "logits", "x")
    paths = []
    for flavor, code in (("engine", export_python(doc)), ("torch", export_torch(doc))):
        for name in names:
            assert f"self.{name}_node = " in code, (flavor, name)
        path = tmp_path / f"{flavor}.py"
        path.write_text(code, encoding="utf-8")
        paths.append(path)
    assert_ruff_clean(*paths)  # no undefined name: every import is still there


@pytest.mark.parametrize("name", ["xor", "digits_cnn"])
@pytest.mark.parametrize("flavor", ["python", "torch"])
def test_golden_files(name: str, flavor: str) -> None:
    """The exported text is stable; NODEGRAD_UPDATE_GOLDEN=1 rewrites the files."""
    export = export_python if flavor == "python" else export_torch
    code = export(load(name), name)
    golden = GOLDEN / f"{name}_{flavor}.py.txt"
    if os.environ.get("NODEGRAD_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(code, encoding="utf-8")
    assert code == golden.read_text(encoding="utf-8")


def test_script_reads_like_hand_written_code() -> None:
    code = export_python(load("digits_mlp"), "digits_mlp")
    assert "        self.dense1 = Linear(64, 128, bias=True)\n" in code
    assert "        relu1 = self.relu1(dense1)\n" in code
    assert "        self.loss = CrossEntropyLoss()\n" in code
    assert "        return logits, loss\n" in code
    assert "optimizer = Adam(model.parameters(), alpha=LEARNING_RATE)" in code
    assert "LEARNING_RATE = 0.003\n" in code
    assert "dataset = data.digits(images=False)" in code
    assert "import *" not in code


def test_invalid_graph_is_refused_with_its_errors() -> None:
    doc = load("digits_mlp")
    doc.remove_node("dense1")
    with pytest.raises(GraphError, match="relu1"):
        export_python(doc)


@pytest.fixture
def torch() -> Any:
    """PyTorch on one thread (its thread pool only fights the other tests for the cores)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def test_torch_script_trains_the_same_model(torch: Any) -> None:
    doc = load("digits_mlp")
    model, losses = run_script(export_torch(doc, "digits_mlp"), epochs=2)
    assert isinstance(model, torch.nn.Module)
    engine_count = sum(p.size for _, p in Session(doc).program.named_parameters())
    assert sum(p.numel() for p in model.parameters()) == engine_count
    assert np.isfinite(losses).all()
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])


@pytest.mark.parametrize("name", ["xor", "digits_cnn", "sine_lstm"])
def test_torch_script_runs(name: str, torch: Any) -> None:
    _, losses = run_script(export_torch(load(name), name), epochs=1)
    assert len(losses) > 0 and np.isfinite(losses).all()


def test_gpu_settings_move_the_model_and_batches(tmp_path: Path) -> None:
    doc = load("digits_mlp")
    doc.set_setting("device", "gpu")
    engine_code, torch_code = export_python(doc), export_torch(doc)
    assert 'DEVICE = "gpu"' in engine_code and "model.to(DEVICE)" in engine_code
    assert "model(Tensor(x, device=DEVICE), Tensor(y, device=DEVICE))" in engine_code
    assert 'DEVICE = "cuda"' in torch_code
    assert "net(x.to(device), y.to(device))" in torch_code and "torch.cuda.set_device" in torch_code
    path = tmp_path / "gpu.py"
    path.write_text(engine_code, encoding="utf-8")
    assert_ruff_clean(path)


def test_torch_script_of_a_language_model_runs(torch: Any) -> None:
    code = export_torch(load("char_lstm"), "char_lstm")
    assert "self.loss(logits.flatten(0, -2), y.flatten())" in code
    _, losses = run_script(code, epochs=1)
    assert np.isfinite(losses).all()
    vocab = load("char_lstm").nodes["embed"].params["vocab_size"]
    assert abs(losses[0] - np.log(vocab)) < 0.5  # a mean over every position, as the engine's
    assert np.mean(losses[-5:]) < losses[0]


def moons_bce() -> GraphDocument:
    """Binary classification with one logit: y (N,) meets logits (N, 1)."""
    doc = GraphDocument()
    nodes = [
        ("data", "dataset", {"name": "moons"}), ("fc", "linear", {"units": 8}),
        ("act", "tanh", {}), ("head", "linear", {"units": 1}),
        ("loss", "bce_with_logits_loss", {}), ("output", "output", {}),
    ]  # fmt: skip
    for node_id, type_id, params in nodes:
        doc.add_node(type_id, params, node_id=node_id)
    for wire in [
        ("data", "x", "fc", "x"), ("fc", "y", "act", "x"), ("act", "y", "head", "x"),
        ("head", "y", "loss", "logits"), ("data", "y", "loss", "target"),
        ("head", "y", "output", "x"),
    ]:  # fmt: skip
        doc.connect(*wire)
    return doc


def test_binary_accuracy_thresholds_the_single_logit() -> None:
    epochs = [e for e in Session(moons_bce()).train(epochs=30) if not isinstance(e, StepMetrics)]
    assert epochs[-2].val_accuracy is not None and epochs[-2].val_accuracy > 0.8


def test_script_of_a_binary_classifier_runs() -> None:
    code = export_python(moons_bce())
    assert "self.loss(head, y.reshape(-1, 1))" in code
    _, losses = run_script(code, epochs=1)
    np.testing.assert_allclose(losses, in_app_losses(moons_bce(), 1), rtol=1e-5)


def test_torch_script_of_a_binary_classifier_learns(torch: Any) -> None:
    code = export_torch(moons_bce())
    assert "self.loss(head, y.reshape(-1, 1).float())" in code
    _, losses = run_script(code, epochs=30)
    assert np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def sine_rnn(activation: str) -> GraphDocument:
    """The sine-sequence regression with an RNN of ``activation`` in place of the LSTM."""
    doc = load("sine_lstm")
    doc.remove_node("lstm")
    doc.add_node("rnn", {"hidden": 8, "activation": activation}, node_id="rnn")
    doc.connect("sine", "x", "rnn", "x")
    doc.connect("rnn", "y", "readout", "x")
    return doc


def test_tanh_rnn_is_exported_as_nn_rnn() -> None:
    code = export_torch(sine_rnn("tanh"))
    assert "self.rnn = nn.RNN(1, 8, nonlinearity='tanh', batch_first=True)" in code
    assert "SigmoidRNN" not in code


def test_sigmoid_rnn_is_exported_as_a_loop_that_matches_the_engine(
    torch: Any, tmp_path: Path
) -> None:
    doc = sine_rnn("sigmoid")
    code = export_torch(doc)
    assert "self.rnn = SigmoidRNN(1, 8)" in code and "nonlinearity" not in code
    path = tmp_path / "sigmoid_rnn.py"
    path.write_text(code, encoding="utf-8")
    assert_ruff_clean(path)
    model, losses = run_script(code, epochs=1)
    assert np.isfinite(losses).all()
    engine_rnn = Session(doc).program.modules["rnn"]
    assert sum(p.numel() for p in model.rnn.parameters()) == sum(
        p.size for p in engine_rnn.parameters()
    )
    with torch.no_grad():  # the engine's weights in the exported module: the same hidden states
        model.rnn.input.weight.copy_(torch.from_numpy(engine_rnn.weight_ih.numpy().T))
        model.rnn.input.bias.copy_(torch.from_numpy(engine_rnn.bias.numpy()))
        model.rnn.hidden.weight.copy_(torch.from_numpy(engine_rnn.weight_hh.numpy().T))
        x = np.random.default_rng(0).normal(size=(3, 7, 1)).astype(np.float32)
        states, last = model.rnn(torch.from_numpy(x))
    expected = engine_rnn(engine.Tensor(x)).numpy()
    np.testing.assert_allclose(states.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last[0].numpy(), expected[:, -1], rtol=1e-5, atol=1e-6)


def test_sigmoid_rnn_engine_script_reproduces_in_app_losses() -> None:
    doc = sine_rnn("sigmoid")
    code = export_python(doc)
    assert "RNN(1, 8, activation='sigmoid')" in code and "SigmoidRNN" not in code
    _, losses = run_script(code, epochs=1)
    np.testing.assert_allclose(losses, in_app_losses(doc, 1), rtol=1e-5)
