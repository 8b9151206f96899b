"""``nodegrad export --to onnx`` and ``nodegrad import``: files written, weights carried, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from onnx_cases import run_onnx

from app.cli import main
from app.graph import io
from app.graph.onnx import compile_for_inference

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_export_onnx_carries_the_saved_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "xor.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    doc = io.load(graph)
    program = compile_for_inference(doc)
    trained = {k: v + 0.5 for k, v in program.state_dict().items()}
    io.save_weights(trained, io.weights_path(graph))
    assert main(["export", str(graph), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    assert "trained weights" in capsys.readouterr().err
    program.load_state_dict(trained)
    x, y = program.dataset.x, program.dataset.y  # type: ignore[union-attr]
    expected = program.prediction(program.forward(x, y)).numpy()  # type: ignore[union-attr]
    got = run_onnx((tmp_path / "m.onnx").read_bytes(), {"input": x.astype(np.float32)})
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_export_onnx_defaults_beside_the_graph(tmp_path: Path) -> None:
    graph = tmp_path / "g.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    assert main(["export", str(graph), "--to", "onnx"]) == 0
    assert (tmp_path / "g.onnx").stat().st_size > 0


def test_export_onnx_refusal_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    for node_id in [n.id for n in doc.nodes.values() if n.type_id in ("output",)]:
        doc.remove_node(node_id)
    for node_id in [n.id for n in doc.nodes.values() if n.spec.role.value == "loss"]:
        doc.remove_node(node_id)
    graph = tmp_path / "g.nodegrad"
    io.save(doc, graph)
    assert main(["export", str(graph), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nodegrad: error:") and "Output node" in err and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_import_writes_the_graph_and_its_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "g.nodegrad"
    shutil.copy(EXAMPLES / "digits_cnn.nodegrad", graph)
    assert main(["export", str(graph), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    out = tmp_path / "back.nodegrad"
    assert main(["import", str(tmp_path / "m.onnx"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "add a Dataset and a loss" in err
    assert f"and {io.weights_path(out)};" in err  # where the weights went, not just their name
    doc = io.load(out)
    weights = io.load_weights(io.weights_path(out))
    program = compile_for_inference(doc, weights)
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    got = program.prediction(program.forward(x, x, {"input": x})).numpy()  # type: ignore[union-attr]
    expected = run_onnx((tmp_path / "m.onnx").read_bytes(), {"input": x})
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_import_defaults_beside_the_model(tmp_path: Path) -> None:
    graph = tmp_path / "g.nodegrad"
    shutil.copy(EXAMPLES / "xor.nodegrad", graph)
    assert main(["export", str(graph), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    assert main(["import", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.nodegrad").exists() and io.weights_path(tmp_path / "m.nodegrad").exists()


@pytest.mark.parametrize("data", [b"not onnx at all \xff\x00", b""])
def test_a_failed_import_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(data)
    assert main(["import", str(model), "-o", str(tmp_path / "g.nodegrad")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nodegrad: error:") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_import_of_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["import", str(tmp_path / "nope.onnx")]) == 1
    assert "no such file" in capsys.readouterr().err
