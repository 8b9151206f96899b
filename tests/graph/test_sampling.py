"""Sampling text from a trained character model; a clear refusal for any other graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from results_graphs import CORPUS, char_graph, trained

from app.graph import io
from app.graph.compile import compile_document
from app.graph.errors import GraphError
from app.graph.sampling import next_char_probabilities, sample_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sampling_is_deterministic_with_a_seed_and_has_the_right_length(tmp_path: Path) -> None:
    program = trained(char_graph(tmp_path)).program
    first = sample_text(program, "the ", 40, temperature=0.8, seed=3)
    again = sample_text(program, "the ", 40, temperature=0.8, seed=3)
    other = sample_text(program, "the ", 40, temperature=0.8, seed=4)
    assert first == again and first != other
    assert first.startswith("the ") and len(first) == 4 + 40
    assert set(first) <= set(CORPUS)
    assert sample_text(program, "a", 0) == "a"


def test_a_cold_temperature_follows_the_most_likely_character(tmp_path: Path) -> None:
    program = trained(char_graph(tmp_path)).program
    probs = next_char_probabilities(program, "the ca")
    vocab = sorted(set(CORPUS))
    assert probs.shape == (len(vocab),) and probs.sum() == pytest.approx(1.0)
    assert (
        sample_text(program, "the ca", 1, temperature=1e-3, seed=0)
        == "the ca" + vocab[int(np.argmax(probs))]
    )


def test_sampling_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    spiral = compile_document(io.load(EXAMPLES / "spiral.nodegrad"))
    with pytest.raises(GraphError, match=r"needs a graph trained on a text dataset.*'spiral'"):
        sample_text(spiral, "x", 5)
    program = trained(char_graph(tmp_path), epochs=1).program
    with pytest.raises(GraphError, match="character 'Z' is not in the vocabulary"):
        sample_text(program, "Zebra", 5)
    with pytest.raises(GraphError, match="prompt is empty"):
        sample_text(program, "", 5)
    with pytest.raises(GraphError, match="temperature must be a positive number"):
        sample_text(program, "the", 5, temperature=0.0)
