"""An export of a graph with blocks that has to write the model flat says why, in one line that
the export result carries and ``nodegrad export`` prints; one with a class per block says
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_export_blocks import residual_blocks

from app.cli import main
from app.graph import io
from app.graph.blocks.grouping import group
from app.graph.document import GraphDocument
from app.graph.export import export_script, save_export

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def loss_in_block() -> GraphDocument:
    """The spiral classifier with its last layer and its loss grouped: a loss inside a block."""
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["logits", "loss"], name="head"))
    return doc


def built_between() -> GraphDocument:
    """A node beside the block that the editor builds between the block's nodes."""
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.add_node("linear", {"units": 64}, node_id="side")
    doc.add_node("add", {}, node_id="join")
    doc.connect("relu1", "y", "side", "x")
    doc.disconnect("relu2", "y", "logits", "x")
    doc.connect("relu2", "y", "join", "a")
    doc.connect("side", "y", "join", "b")
    doc.connect("join", "y", "logits", "x")
    doc.apply(group(doc, ["dense2", "relu2"], name="mid"))
    return doc


@pytest.mark.parametrize("target", ["python", "torch"])
def test_a_loss_inside_a_block_is_written_flat_and_the_notice_says_why(target: str) -> None:
    exported = export_script(loss_in_block(), target, "spiral")  # type: ignore[arg-type]
    assert "class Head(" not in exported.code
    assert exported.notice.startswith("Written flat, without a class per block: ")
    assert "block 'head'" in exported.notice and "loss node inside a block" in exported.notice
    assert "\n" not in exported.notice


def test_the_engine_build_order_fallback_has_its_own_notice() -> None:
    doc = built_between()
    engine = export_script(doc, "python", "spiral")
    assert "class Mid(" not in engine.code
    assert "another order" in engine.notice and "\n" not in engine.notice
    torch = export_script(doc, "torch", "spiral")
    assert "class Mid(nn.Module)" in torch.code and torch.notice == ""


@pytest.mark.parametrize("target", ["python", "torch"])
def test_classes_per_block_and_plain_graphs_carry_no_notice(target: str) -> None:
    assert export_script(residual_blocks(), target, "res").notice == ""  # type: ignore[arg-type]
    plain = io.load(EXAMPLES / "spiral.nodegrad")
    assert export_script(plain, target, "spiral").notice == ""  # type: ignore[arg-type]


def test_save_export_returns_the_files_and_the_notice(tmp_path: Path) -> None:
    written = save_export(loss_in_block(), "python", tmp_path / "head.py")
    assert written.paths == (tmp_path / "head.py",)
    assert written.notice and (tmp_path / "head.py").read_text(encoding="utf-8") == written.code


@pytest.mark.parametrize("to_file", [True, False])
def test_the_command_prints_the_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to_file: bool
) -> None:
    graph = tmp_path / "head.nodegrad"
    io.save(loss_in_block(), graph)
    out = ["-o", str(tmp_path / "head.py")] if to_file else []
    assert main(["export", str(graph), "--to", "python", *out]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "block 'head'" in notes[0], err


def test_the_command_says_nothing_more_for_a_graph_exported_with_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = tmp_path / "res.nodegrad"
    io.save(residual_blocks(), graph)
    assert main(["export", str(graph), "--to", "torch", "-o", str(tmp_path / "res.py")]) == 0
    assert "note: " not in capsys.readouterr().err
