"""The example graphs built of blocks: in step with their builders, valid, and they learn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from build_block_examples import BLOCK_EXAMPLES, EXAMPLES_DIR

from app.cli import main
from app.graph import io
from app.graph.validate import validate


@pytest.mark.parametrize("name", sorted(BLOCK_EXAMPLES))
def test_file_matches_its_builder_and_is_valid(name: str) -> None:
    doc = io.load(EXAMPLES_DIR / f"{name}.nodegrad")
    assert doc.to_dict() == BLOCK_EXAMPLES[name]().to_dict(), (
        "run python tests/examples/build_block_examples.py"
    )
    assert validate(doc).diagnostics == []


def test_residual_blocks_repeats_one_residual_block() -> None:
    doc = io.load(EXAMPLES_DIR / "residual_blocks.nodegrad")
    blocks = [n for n in doc.nodes.values() if n.block is not None]
    assert [(n.block.name, n.params["repeat"]) for n in blocks if n.block] == [("residual", 2)]


def test_residual_blocks_reaches_98_percent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`nodegrad train` at the saved settings, on a copy (weights and runs go beside it)."""
    target = tmp_path / "residual_blocks.nodegrad"
    target.write_bytes((EXAMPLES_DIR / "residual_blocks.nodegrad").read_bytes())
    assert main(["train", str(target)]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"validation accuracy: ([\d.]+)%", out).group(1))  # type: ignore[union-attr]
    assert accuracy >= 98.0, out
