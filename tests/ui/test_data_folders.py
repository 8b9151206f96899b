"""Relative Dataset paths follow the graph: Save As moves the folder they are read from, and a
recovered graph reads them from its own folder, not the recovery folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.graph import io
from app.graph.document import GraphDocument
from app.ui.recovery import Recovery


def csv_graph() -> GraphDocument:
    """A regression on ``data/points.csv`` (a path relative to the graph file)."""
    doc = GraphDocument()
    params = {"name": "csv", "path": "data/points.csv", "target": "y"}
    doc.add_node("dataset", params, position=(0, 0), node_id="data")
    doc.add_node("linear", {"units": 1}, position=(260, 0), node_id="fc")
    doc.add_node("mse_loss", {}, position=(520, 0), node_id="loss")
    doc.connect("data", "x", "fc", "x")
    doc.connect("fc", "y", "loss", "pred")
    doc.connect("data", "y", "loss", "target")
    return doc


def project(folder: Path, features: int) -> Path:
    """``folder/graph.nodegrad`` beside ``folder/data/points.csv`` with ``features`` columns."""
    (folder / "data").mkdir(parents=True)
    names = [f"f{i}" for i in range(features)]
    rows = [",".join([*names, "y"])]
    rows += [",".join(str(i + k) for k in range(features + 1)) for i in range(12)]
    (folder / "data" / "points.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    io.save(csv_graph(), folder / "graph.nodegrad")
    return folder / "graph.nodegrad"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder that holds no data (relative paths must not resolve against it)."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")


def test_save_as_reads_relative_paths_from_the_new_folder(window, tmp_path, elsewhere) -> None:
    first = project(tmp_path / "a", features=2)
    second = project(tmp_path / "b", features=3)
    second.unlink()  # folder b has its own data/points.csv but no graph yet
    assert window.files.open(first)
    assert window.validation.shapes[("data", "x")] == (None, 2)
    assert window.files.save_as(second)
    assert window.document.base_dir == second.parent
    assert window.validation.ok
    assert window.validation.shapes[("data", "x")] == (None, 3)  # b's csv, not a's


def test_a_recovered_graph_reads_relative_paths_from_its_original_folder(
    qtbot, make_window, tmp_path, elsewhere
) -> None:
    graph = project(tmp_path / "p", features=2)
    w = make_window(graph)
    w.editor.set_label("fc", "readout")
    w.autosave()
    crashed = Recovery()
    crashed.path = crashed.folder / "recovery-999998.nodegrad"
    os.replace(w.recovery.path, crashed.path)
    os.replace(w.recovery.meta, crashed.path.with_suffix(".json"))
    restored = make_window()
    assert restored.banner.found and restored.banner.found[0].path == crashed.path
    restored.banner.restore_button.click()
    assert restored.document.nodes["fc"].label == "readout"
    assert restored.files.path == graph and restored.isWindowModified()
    assert restored.document.base_dir == graph.parent
    assert restored.validation.ok, [d.message for d in restored.validation.diagnostics]
    assert restored.validation.shapes[("data", "x")] == (None, 2)


def test_an_untitled_copy_of_an_example_keeps_its_folder_through_recovery(tmp_path) -> None:
    graph = project(tmp_path / "ex", features=2)
    doc = io.load(graph)  # an example opened as an untitled copy: no file, but a folder
    recovery = Recovery(tmp_path / "recovery")
    recovery.write(doc, None)
    crashed = recovery.folder / "recovery-999997.nodegrad"
    os.replace(recovery.path, crashed)
    os.replace(recovery.meta, crashed.with_suffix(".json"))
    (found,) = Recovery(tmp_path / "recovery").left_behind()
    assert found.original is None and found.folder() == graph.parent
