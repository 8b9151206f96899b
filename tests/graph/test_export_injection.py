"""No code injection through export: hostile file names, labels, node ids, data paths and column
names end up in the scripts as literals (or are refused); the scripts run and nothing they were
not written to do happens."""

from __future__ import annotations

import csv
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.graph import io
from app.graph.blocks.grouping import group
from app.graph.blocks.mutations import EditBlock
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.export import export_python, export_torch
from app.graph.mutations import SetLabel

ROOT = Path(__file__).resolve().parents[2]


def hostile(tag: str) -> str:
    """A string that runs ``touch PWNED_<tag>`` wherever it is pasted into code unquoted."""
    run = f'__import__("os").system("touch PWNED_{tag}")'
    return f'x"""; {run}; """\'; {run}; \''


def hostile_graph(folder: Path) -> Path:
    """A csv classifier whose every name is hostile; returns the saved graph's path."""
    data = folder / f"{hostile('PATH')}.csv"
    column = hostile("COLUMN")
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", column])
        for k in range(40):
            writer.writerow([k % 7 / 7, (k * 3) % 5 / 5, k % 2])
    doc = GraphDocument()
    ids = {name: f"{name}_import_os" for name in ("data", "fc", "loss", "out")}
    params = {"name": "csv", "path": data.name, "target": column}
    doc.add_node("dataset", params, node_id=ids["data"])
    doc.add_node("linear", {"units": 2}, node_id=ids["fc"], label=hostile("LABEL"))
    doc.add_node("cross_entropy_loss", {}, node_id=ids["loss"], label=hostile("LABEL2"))
    doc.add_node("output", {}, node_id=ids["out"], label=hostile("LABEL3"))
    doc.connect(ids["data"], "x", ids["fc"], "x")
    doc.connect(ids["fc"], "y", ids["loss"], "logits")
    doc.connect(ids["data"], "y", ids["loss"], "target")
    doc.connect(ids["fc"], "y", ids["out"], "x")
    doc.set_setting("epochs", 1)
    graph = folder / f"{hostile('TITLE')}.nodegrad"
    io.save(doc, graph)
    return graph


def pwned(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("PWNED*"))


@pytest.mark.parametrize("target", ["python", "torch"])
@pytest.mark.parametrize("train", [True, False])
def test_hostile_names_never_run(target: str, train: bool, tmp_path: Path) -> None:
    if target == "torch":
        pytest.importorskip("torch")
    graph = hostile_graph(tmp_path)
    script = tmp_path / "model.py"
    args = ["export", str(graph), "--to", target, "-o", str(script)]
    assert main(args + ([] if train else ["--no-train"])) == 0
    code = script.read_text(encoding="utf-8")
    assert "PWNED_TITLE" in code  # the name is there, as the GRAPH literal
    assert "PWNED_LABEL" not in code
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("epoch 1/1" in done.stdout) == train
    assert pwned(tmp_path) == []


def hostile_blocks(folder: Path) -> Path:
    """The hostile classifier with its Linear grouped into a block whose label and port
    captions are hostile too; returns the saved graph's path."""
    graph = hostile_graph(folder)
    doc = io.load(graph)
    doc.apply(group(doc, ["fc_import_os"], name="fc_block"))
    doc.set_label("fc_block_1", hostile("BLOCK_LABEL"))
    for port in ("x", "y"):
        doc.apply(EditBlock("fc_block", SetLabel(port, hostile("PORT_CAPTION"))))
    io.save(doc, graph)
    return graph


@pytest.mark.parametrize("target", ["python", "torch"])
@pytest.mark.parametrize("train", [True, False])
def test_hostile_block_labels_and_port_captions_never_run(
    target: str, train: bool, tmp_path: Path
) -> None:
    if target == "torch":
        pytest.importorskip("torch")
    graph = hostile_blocks(tmp_path)
    script = tmp_path / "model.py"
    args = ["export", str(graph), "--to", target, "-o", str(script)]
    assert main(args + ([] if train else ["--no-train"])) == 0
    code = script.read_text(encoding="utf-8")
    assert code.count("class FcBlock(") == 1  # written as a class, not flat
    assert "PWNED_BLOCK_LABEL" not in code and "PWNED_PORT_CAPTION" not in code
    assert "PWNED_LABEL" not in code
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("epoch 1/1" in done.stdout) == train
    assert pwned(tmp_path) == []


@pytest.mark.parametrize("export", [export_python, export_torch])
def test_hostile_title_is_a_literal(export: object) -> None:
    doc = io.load(ROOT / "examples" / "xor.nodegrad")
    code = export(doc, hostile("T"))  # type: ignore[operator]
    namespace: dict[str, object] = {"__name__": "exported"}
    if export is export_torch:
        pytest.importorskip("torch")
    exec(compile(code, "<exported>", "exec"), namespace)
    assert namespace["GRAPH"] == hostile("T")


def test_hostile_node_ids_are_refused() -> None:
    with pytest.raises(GraphError, match="identifier"):
        GraphDocument().add_node("linear", {}, node_id=hostile("ID"))


def test_hostile_shape_strings_are_refused(tmp_path: Path) -> None:
    doc = io.load(ROOT / "examples" / "digits_mlp.nodegrad")
    data = doc.to_dict()
    node = {"id": "shape", "type": "reshape", "params": {"shape": "64); import os; (1"}}
    data["nodes"].append({**node, "position": [0, 0]})
    with pytest.raises(GraphError):
        export_python(GraphDocument.from_dict(data))


@pytest.mark.parametrize("name", ["seed", "epochs", "batch_size", "device", "optimizer"])
def test_hostile_settings_are_refused_by_the_file_reader(name: str) -> None:
    data = io.load(ROOT / "examples" / "xor.nodegrad").to_dict()
    data["training"][name] = hostile("SETTING")
    with pytest.raises(GraphError):
        GraphDocument.from_dict(data)


def test_settings_reach_the_script_as_literals() -> None:
    from app.graph.export.common import settings_constants

    settings = io.load(ROOT / "examples" / "xor.nodegrad").training
    forged = dataclasses.replace(settings, seed=hostile("SEED"))  # past every check
    assert f"SEED = {hostile('SEED')!r}" in settings_constants(forged, "cuda")
