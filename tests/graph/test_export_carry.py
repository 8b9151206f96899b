"""Exports that carry the model: ``build_model()`` loads the trained weights written beside the
script, ``predict(x)`` gives the engine's output, the PyTorch script runs without nodegrad (also
under torchrun), and ``--no-train`` writes an inference-only script."""

from __future__ import annotations

import ast
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from app.cli import main
from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.export import export_python, export_torch, weights_file, write_export
from app.graph.session import Session

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NAMES = ["xor", "spiral", "digits_mlp", "digits_cnn", "char_lstm", "sine_lstm"]
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "torch", "sklearn"}
# Runs a script with nodegrad made unimportable: ``python -c NO_NODEGRAD script.py [__main__]``.
NO_NODEGRAD = (
    "import runpy, sys\n"
    "sys.modules['engine'] = sys.modules['app'] = None\n"
    "space = runpy.run_path(sys.argv[1], run_name=sys.argv[2])\n"
    "if sys.argv[2] != '__main__':\n"
    "    import numpy as np\n"
    "    print('predicted', space['predict'](np.load(sys.argv[3])).shape)\n"
)


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def with_batch_norm() -> GraphDocument:
    """The spiral classifier with a BatchNorm1d, a LayerNorm and a Dropout inside."""
    doc = load("spiral")
    doc.add_node("batch_norm1d", {}, node_id="bn")
    doc.add_node("layer_norm", {}, node_id="ln")
    doc.add_node("dropout", {"p": 0.2}, node_id="drop")
    doc.connect("dense1", "y", "bn", "x")
    doc.connect("bn", "y", "ln", "x")
    doc.connect("ln", "y", "drop", "x")
    doc.connect("drop", "y", "relu1", "x")
    return doc


def trained_weights(doc: GraphDocument) -> tuple[Session, dict[str, np.ndarray]]:
    """A session and weights moved off their initial values (batch statistics included)."""
    session = Session(doc)
    rng = np.random.default_rng(1)
    weights = {
        k: (v + rng.uniform(0.05, 0.3, v.shape)).astype(v.dtype)
        for k, v in session.program.state_dict().items()
    }
    return session, weights


def engine_prediction(
    session: Session, weights: dict[str, np.ndarray], x: Any, y: Any
) -> np.ndarray:
    program = session.program
    program.load_state_dict(weights)
    program.eval()
    with engine.no_grad():
        return np.asarray(program.prediction(program.forward(x, y)).numpy())


@pytest.fixture
def torch() -> Any:
    """PyTorch on one thread (its thread pool only fights the other tests for the cores)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    "name", [*NAMES, "residual_cnn", "gru_sine", "char_transformer", "batch_norm"]
)
@pytest.mark.parametrize("target", ["torch", "python"])
def test_predict_gives_the_engines_output_for_the_trained_weights(
    name: str, target: str, tmp_path: Path, torch: Any
) -> None:
    doc = with_batch_norm() if name == "batch_norm" else load(name)
    session, weights = trained_weights(doc)
    written = write_export(doc, target, tmp_path / f"{name}.py", weights)  # type: ignore[arg-type]
    assert written == [tmp_path / f"{name}.py", tmp_path / f"{name}.weights.npz"]
    script = runpy.run_path(str(written[0]), run_name="exported")
    data = session.val_set or session.train_set
    x = data.x[:64]
    expected = engine_prediction(session, weights, x, data.y[:64])
    got = script["predict"](x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    if target == "torch":
        assert isinstance(script["build_model"](), torch.nn.Module)


def test_weights_file_is_keyed_as_the_models_state_dict(tmp_path: Path, torch: Any) -> None:
    doc = load("char_lstm")
    _, weights = trained_weights(doc)
    write_export(doc, "torch", tmp_path / "lm.py", weights)
    with np.load(tmp_path / "lm.weights.npz", allow_pickle=False) as archive:
        keys = set(archive.files)
    model = runpy.run_path(str(tmp_path / "lm.py"), run_name="exported")["Model"]()
    assert keys == set(model.state_dict())
    assert "lstm.weight_ih_l0" in keys


def test_weights_path_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = load("xor")
    _, weights = trained_weights(doc)
    write_export(doc, "python", tmp_path / "a.py", weights)
    (tmp_path / "a.weights.npz").rename(tmp_path / "elsewhere.npz")
    script = runpy.run_path(str(tmp_path / "a.py"), run_name="exported")
    fresh = script["build_model"]().state_dict()
    monkeypatch.setenv("NODEGRAD_WEIGHTS", str(tmp_path / "elsewhere.npz"))
    loaded = script["build_model"]().state_dict()
    assert not np.allclose(fresh["hidden.weight"], loaded["hidden.weight"])
    np.testing.assert_array_equal(loaded["hidden.weight"], weights["hidden.weight"])


def test_export_without_weights_removes_a_stale_file(tmp_path: Path) -> None:
    doc = load("xor")
    _, weights = trained_weights(doc)
    write_export(doc, "python", tmp_path / "a.py", weights)
    assert write_export(doc, "python", tmp_path / "a.py") == [tmp_path / "a.py"]
    assert not (tmp_path / "a.weights.npz").exists()


def test_weights_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    doc = load("xor")
    with pytest.raises(GraphError, match="weights do not fit"):
        write_export(doc, "torch", tmp_path / "a.py", {"nope.weight": np.zeros(2)})


@pytest.mark.parametrize("name", NAMES)
def test_torch_script_imports_only_stdlib_numpy_torch_sklearn(name: str) -> None:
    tree = ast.parse(export_torch(load(name), name))
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0] for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }  # fmt: skip
    assert modules <= ALLOWED, modules - ALLOWED
    assert ("sklearn" in modules) == name.startswith("digits")


def run_without_nodegrad(script: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", NO_NODEGRAD, str(script), *args],
        capture_output=True, text=True, cwd=script.parent, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_torch_script_trains_saves_and_predicts_without_nodegrad(
    tmp_path: Path, torch: Any
) -> None:
    doc = load("char_lstm")  # the bundled corpus, written into the script
    doc.set_setting("epochs", 1)
    script = write_export(doc, "torch", tmp_path / "lm.py")[0]
    out = run_without_nodegrad(script, "__main__")
    assert "epoch 1/1: loss" in out and out.count("saved the weights") == 1
    assert weights_file(script).exists()
    np.save(tmp_path / "x.npy", Session(doc).val_set.x[:3])
    seq_len = doc.nodes["text"].params["seq_len"]
    predicted = run_without_nodegrad(script, "exported", str(tmp_path / "x.npy"))
    assert f"predicted (3, {seq_len}, " in predicted


def test_torchrun_trains_with_two_processes(tmp_path: Path, torch: Any) -> None:
    doc = load("spiral")
    doc.set_setting("epochs", 4)
    script = write_export(doc, "torch", tmp_path / "spiral.py")[0]
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(script)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == [f"epoch {k}/4" for k in range(1, 5)]
    losses = [float(line.split("loss ")[1].split(",")[0]) for line in epochs]
    assert losses[-1] < 0.85 * losses[0]
    assert done.stdout.count("saved the weights") == 1
    model = runpy.run_path(str(script), run_name="exported")["build_model"]()
    with np.load(weights_file(script), allow_pickle=False) as archive:
        saved = archive["dense1.weight"]
    np.testing.assert_array_equal(model.state_dict()["dense1.weight"].numpy(), saved)


@pytest.mark.parametrize("target", ["python", "torch"])
def test_no_train_writes_an_inference_only_script(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], torch: Any
) -> None:
    graph = tmp_path / "spiral.nodegrad"
    doc = load("spiral")
    io.save(doc, graph)
    session, weights = trained_weights(doc)
    io.save_weights(weights, io.weights_path(graph))
    out = tmp_path / "infer.py"
    assert main(["export", str(graph), "--to", target, "-o", str(out), "--no-train"]) == 0
    code = out.read_text(encoding="utf-8")
    assert "def train(" not in code and "optimizer" not in code and "backward" not in code
    assert (tmp_path / "infer.weights.npz").exists()
    script = runpy.run_path(str(out), run_name="exported")
    x, y = session.val_set.x, session.val_set.y  # the validation data
    np.testing.assert_allclose(
        script["predict"](x), engine_prediction(session, weights, x, y), rtol=1e-4, atol=1e-5
    )
    capsys.readouterr()
    runpy.run_path(str(out), run_name="__main__")
    assert "spiral: loss " in capsys.readouterr().out


def test_export_to_stdout_says_the_weights_need_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "xor.nodegrad"
    io.save(load("xor"), graph)
    io.save_weights(trained_weights(load("xor"))[1], io.weights_path(graph))
    assert main(["export", str(graph), "--to", "python"]) == 0
    captured = capsys.readouterr()
    assert "def build_model" in captured.out and "only with -o" in captured.err


def test_prediction_skips_the_loss() -> None:
    code = export_python(load("digits_mlp"))
    forward = code[code.index("def forward") : code.index("def weights_path")]
    assert forward.index("if y is None:") < forward.index("self.loss(")


def _torch_module(spec: Any, params: dict[str, Any], shapes: dict[str, Any], torch: Any) -> Any:
    """The module the PyTorch export constructs for a node of ``spec``."""
    from app.graph.export.common import _template_values

    values = {**_template_values(spec, params, shapes), "name": "node"}
    namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
    support = spec.torch_code.support.format(**values)
    if support:
        exec(support, namespace)
    return eval(spec.torch_code.init.format(**values), namespace)


def test_every_layer_with_weights_maps_to_its_exported_pytorch_module(torch: Any) -> None:
    """Each node type that holds weights gives, through ``torch_state_dict()``, exactly the
    state dict of the module its PyTorch template builds (new layers included)."""
    from app.graph.specs import all_specs

    checked = []
    for spec in all_specs():
        if spec.build is None or not spec.torch_code.init:
            continue
        variants = [spec.default_params()]
        if spec.type_id == "rnn":
            variants += [{**variants[0], "activation": a} for a in ("relu", "sigmoid")]
        for params in variants:
            shapes = spec.example_inputs()
            module = spec.build(params, shapes)
            if module is None or not module.state_dict():
                continue
            theirs = _torch_module(spec, params, shapes, torch).state_dict()
            ours = module.torch_state_dict()
            assert list(ours) == list(theirs), spec.type_id
            for key, value in theirs.items():
                assert ours[key].shape == tuple(value.shape), (spec.type_id, key)
            checked.append(spec.type_id)
    assert {"linear", "conv2d", "batch_norm1d", "layer_norm", "embedding", "rnn", "lstm"} <= set(
        checked
    )
