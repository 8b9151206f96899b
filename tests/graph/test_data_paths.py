"""A Dataset's relative file path is read from the folder of the graph file, not the cwd."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.graph import io
from app.graph.compile import compile_document
from app.graph.document import GraphDocument
from app.graph.export import export_python
from app.graph.session import Session, StepMetrics
from app.graph.validate import validate


def csv_graph(path: str) -> GraphDocument:
    """A regression on a CSV file: x (N, 2) -> Linear(1) -> MSE against y."""
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "csv", "path": path, "target": "y"}, node_id="data")
    doc.add_node("linear", {"units": 1}, node_id="fc")
    doc.add_node("mse_loss", {}, node_id="loss")
    doc.connect("data", "x", "fc", "x")
    doc.connect("fc", "y", "loss", "pred")
    doc.connect("data", "y", "loss", "target")
    return doc


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``project/graph.nodegrad`` beside ``project/data/points.csv``, cwd elsewhere."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    rows = ["a,b,y"] + [f"{i},{i % 3},{2 * i + 1}" for i in range(20)]
    (folder / "data" / "points.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    io.save(csv_graph("data/points.csv"), folder / "graph.nodegrad")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return folder


def test_relative_path_is_read_beside_the_graph_file(project: Path) -> None:
    doc = io.load(project / "graph.nodegrad")
    result = validate(doc)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.shapes[("data", "x")] == (None, 2)
    program = compile_document(doc)
    np.testing.assert_array_equal(program.dataset.y.ravel(), 2 * np.arange(20) + 1)
    losses = [e.loss for e in Session(doc).train(epochs=1) if isinstance(e, StepMetrics)]
    assert losses and np.isfinite(losses).all()


def test_the_path_is_kept_as_written(project: Path) -> None:
    doc = io.load(project / "graph.nodegrad")
    assert doc.nodes["data"].params["path"] == "data/points.csv"
    io.save(doc, project / "copy.nodegrad")
    assert '"path": "data/points.csv"' in (project / "copy.nodegrad").read_text(encoding="utf-8")


def test_a_relative_path_loaded_elsewhere_names_the_file_it_looked_for(
    project: Path, tmp_path: Path
) -> None:
    doc = io.load(project / "graph.nodegrad", base_dir=tmp_path)
    errors = validate(doc).errors
    assert len(errors) == 1 and errors[0].node_id == "data" and errors[0].port == "path"
    assert str(tmp_path / "data" / "points.csv") in errors[0].message


def test_a_document_built_in_memory_reads_from_the_current_directory(project: Path) -> None:
    assert not validate(csv_graph("data/points.csv")).ok  # the cwd is "elsewhere"
    doc = csv_graph("data/points.csv")
    doc.base_dir = project
    assert validate(doc).ok
    absolute = csv_graph(str(project / "data" / "points.csv"))
    absolute.base_dir = Path("/nonexistent")
    assert validate(absolute).ok


def test_assign_takes_over_the_folder(project: Path) -> None:
    doc = GraphDocument()
    doc.assign(io.load(project / "graph.nodegrad"))
    assert doc.base_dir == project
    assert validate(doc).ok


def test_export_reads_the_file_the_editor_reads(project: Path) -> None:
    code = export_python(io.load(project / "graph.nodegrad"))
    assert f"data.csv({str(project / 'data' / 'points.csv')!r}, 'y')" in code


def test_cli_trains_a_graph_whose_csv_lies_beside_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = str(project / "graph.nodegrad")
    assert main(["validate", graph]) == 0
    assert main(["train", graph, "--epochs", "1"]) == 0
    assert "training loss:" in capsys.readouterr().out


def test_an_exported_script_finds_the_data_relative_to_itself(
    project: Path, tmp_path: Path
) -> None:
    """Written to a folder, the script names the data file relative to itself, so it runs
    from any directory, and the project can move as a whole."""
    import subprocess
    import sys

    from tests.graph.test_export import ROOT, assert_ruff_clean

    out = tmp_path / "scripts"
    out.mkdir()
    doc = io.load(project / "graph.nodegrad")
    doc.set_setting("epochs", 2)
    code = export_python(doc, title="graph", script_dir=out)
    assert "str(Path(__file__).resolve().parent / '../project/data/points.csv')" in code
    assert code.count("from pathlib import Path") == 1
    script = out / "train.py"
    script.write_text(code, encoding="utf-8")
    assert_ruff_clean(script)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False,
        cwd=tmp_path / "elsewhere", env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "loss" in done.stdout


def test_cli_export_to_a_file_writes_script_relative_paths(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "scripts" / "model.py"
    out.parent.mkdir()
    graph = str(project / "graph.nodegrad")
    assert main(["export", graph, "--to", "torch", "-o", str(out)]) == 0
    code = out.read_text(encoding="utf-8")
    assert "Path(__file__).resolve().parent / '../project/data/points.csv'" in code
    assert code.startswith('"""') and "from pathlib import Path\n\nimport numpy as np" in code
