"""Try it with a language model whose head is wider than its vocabulary."""

from __future__ import annotations

from pathlib import Path

from app.graph import io
from tests.graph.results_graphs import char_graph
from tests.ui.test_results_docks import train


def test_try_it_next_characters_from_a_head_wider_than_the_vocabulary(
    qtbot, make_window, tmp_path: Path
) -> None:
    """The head has 300 units for a vocabulary of a few dozen characters (validation only
    warns): the next-character bars list vocabulary characters only, on every keystroke."""
    path = char_graph(tmp_path)
    doc = io.load(path)
    doc.set_param("logits", "units", 300)
    doc.set_param("embed", "vocab_size", 300)
    io.save(doc, path)
    window = make_window(path)
    train(qtbot, window, 1)
    tryit = window.results_room.tryit
    assert tryit.prompt is not None
    tryit.prompt.clear()
    qtbot.keyClicks(tryit.prompt, "the ca")
    assert "Most likely next character" in tryit.value.text()
