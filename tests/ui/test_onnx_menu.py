"""File > Export > ONNX and File > Import ONNX, driven through the window's actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.graph import io
from app.graph.onnx import compile_for_inference, export_onnx, save_onnx

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"input": x})[0])


def test_export_onnx_from_the_menu(
    digits: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "digits.onnx"
    monkeypatch.setattr(type(digits), "ask_save_path", lambda self, *a: str(target))
    action = digits.actions_by_name["actionExportOnnx"]
    assert action in digits.menu_export.actions()
    action.trigger()
    x = np.random.default_rng(0).random((5, 64)).astype(np.float32)
    program = compile_for_inference(digits.document)
    expected = program.prediction(program.forward(x, np.zeros(5, np.int64))).numpy()
    np.testing.assert_allclose(run_onnx(target, x), expected, atol=1e-4)
    assert "Exported" in digits.statusBar().currentMessage()


def test_export_refusal_is_shown(window: Any, tmp_path: Path) -> None:
    window.document.add_node("relu", node_id="r")
    window.actions_by_name["actionExportOnnx"].trigger()
    assert "Cannot export" in window.last_dialog.text()


def test_import_onnx_from_the_menu(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = io.load(EXAMPLES / "digits_cnn.nodegrad")
    model = tmp_path / "cnn.onnx"
    save_onnx(export_onnx(source), model)
    monkeypatch.setattr("app.ui.onnx_files.ask_onnx_path", lambda parent: str(model))
    window.menu_file.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitExposed(window.menu_file)
    qtbot.keyClick(window.menu_file, Qt.Key.Key_I)  # the menu's mnemonic: &Import ONNX…
    qtbot.waitUntil(lambda: "conv2d" in {n.type_id for n in window.document.nodes.values()})
    types = sorted(n.type_id for n in window.document.nodes.values())
    assert types == sorted(["input", "conv2d", "relu", "max_pool2d", "flatten", "linear", "output"])
    assert window.isWindowModified()
    assert set(window.training.sessions.loaded) == set(compile_for_inference(source).state_dict())
    assert "Imported cnn.onnx" in window.statusBar().currentMessage()


def test_import_refusal_keeps_the_document(
    digits: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a model")
    before = set(digits.document.nodes)
    monkeypatch.setattr("app.ui.onnx_files.ask_onnx_path", lambda parent: str(bad))
    digits.actions_by_name["actionImportOnnx"].trigger()
    assert "Could not import bad.onnx" in digits.last_dialog.text()
    assert set(digits.document.nodes) == before


def test_the_file_menu_shows_the_onnx_entries(digits: Any, qtbot: Any) -> None:
    texts = [a.text() for a in digits.menu_file.actions()]
    assert "&Import ONNX…" in texts
    assert "&ONNX…" in [a.text() for a in digits.menu_export.actions()]
    digits.menu_file.popup(digits.mapToGlobal(digits.rect().topLeft()))
    qtbot.waitExposed(digits.menu_file)
    digits.menu_export.popup(digits.mapToGlobal(digits.rect().center()))
    qtbot.waitExposed(digits.menu_export)
    digits.menu_file.grab().save(str(Path("/tmp") / "onnx_file_menu.png"))
    digits.menu_export.grab().save(str(Path("/tmp") / "onnx_export_menu.png"))
    digits.menu_export.close()
    digits.menu_file.close()
