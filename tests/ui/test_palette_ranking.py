"""Palette search ranks exact names, then prefixes, then substrings, then help text; a block's
exposed parameters each say which inner node and parameter they set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.graph.specs import get_spec
from app.ui import block_library
from app.ui.canvas.quick_add import EXACT, HELP, PREFIX, SUBSTRING, match_rank
from app.ui.palette import BLOCK_ROLE, TYPE_ROLE, BlockEntry


@pytest.fixture(autouse=True)
def _no_user_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(block_library, "user_blocks_folder", lambda: tmp_path / "blocks")


def search(window: Any, text: str) -> None:
    """Type ``text`` into the palette's search box, key by key."""
    box = window.node_palette.search
    box.setFocus()
    box.clear()
    QTest.keyClicks(box, text)
    QApplication.processEvents()


def test_the_ranks_go_exact_prefix_substring_help() -> None:
    block = BlockEntry("builtin:transformer", "transformer", "a pre-norm layer").spec()
    encoder = get_spec("transformer_encoder")
    assert match_rank(block, "Transformer") == EXACT
    assert match_rank(encoder, "transformer") == PREFIX
    assert match_rank(encoder, "encoder") == SUBSTRING
    assert match_rank(get_spec("linear"), "linear") == EXACT
    assert match_rank(get_spec("linear"), "fully connected") == HELP
    assert match_rank(get_spec("linear"), "zebra") is None


def test_typing_transformer_picks_the_transformer_block(qtbot, window) -> None:
    qtbot.waitUntil(lambda: bool(window.node_palette.block_entries()))
    search(window, "transformer")
    current = window.node_palette.tree.currentItem()
    assert current.data(0, BLOCK_ROLE) is not None and current.text(0) == "transformer"
    window.grab().save("/tmp/ui_palette_transformer.png")
    before = set(window.document.nodes)
    QTest.keyClick(window.node_palette.search, Qt.Key.Key_Return)  # Enter adds the best match
    (added,) = set(window.document.nodes) - before
    assert window.document.nodes[added].block is not None
    search(window, "transformer enc")
    assert window.node_palette.tree.currentItem().data(0, TYPE_ROLE) == "transformer_encoder"


def test_a_prefix_beats_a_match_in_the_help(window) -> None:
    search(window, "relu")
    assert window.node_palette.tree.currentItem().data(0, TYPE_ROLE) == "relu"
    search(window, "lay")  # Layer norm's name starts with it; others only say "layer" in help
    assert window.node_palette.tree.currentItem().data(0, TYPE_ROLE) == "layer_norm"


def field_help(inspector: QWidget) -> list[str]:
    return [label.text() for label in inspector.findChildren(QLabel, "fieldHelp")]


def test_each_exposed_parameter_says_what_it_sets(qtbot, window) -> None:
    qtbot.waitUntil(lambda: bool(window.node_palette.block_entries()))
    key = next(
        i.data(0, BLOCK_ROLE)
        for i in window.node_palette.block_entries()
        if i.text(0) == "residual" and i.data(0, BLOCK_ROLE).startswith("builtin:")
    )
    node_id = window.block_library.insert(key)
    assert node_id is not None
    window.reveal_node(node_id)  # selects it: the inspector shows the block's parameters
    QApplication.processEvents()
    texts = field_help(window.inspector)
    channels = [t for t in texts if "'conv2'" in t]
    width = [t for t in texts if "'conv1'" in t]
    assert channels and width and channels != width
    assert channels[0].startswith("Sets out channels of 'conv2' inside the block")
    window.inspector.grab().save("/tmp/ui_block_param_help.png")
