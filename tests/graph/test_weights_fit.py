"""Saved weights against an edited graph: what fits loads, each misfit is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.graph import io
from app.graph.compile import compile_document
from app.graph.weights_fit import fit_weights

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_everything_fits_the_graph_it_was_saved_for() -> None:
    program = compile_document(io.load(EXAMPLES / "spiral.nodegrad"))
    saved = {k: v + 1 for k, v in program.state_dict().items()}
    fitted, misfits = fit_weights(program, saved)
    assert misfits == []
    assert all(np.array_equal(fitted[k], saved[k]) for k in saved)


def test_a_resized_and_a_removed_node_are_named_and_the_rest_loads() -> None:
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    saved = {k: v + 1 for k, v in compile_document(doc).state_dict().items()}
    doc.set_param("dense2", "units", 32)
    program = compile_document(doc)
    fresh = program.state_dict()
    fitted, misfits = fit_weights(program, saved)
    by_node = {m.node_id: m.message for m in misfits}
    assert set(by_node) == {"dense2", "logits"}  # logits reads 32 features now
    assert "weight is 64×32 now but 64×64 in the saved weights" in by_node["dense2"]
    assert np.array_equal(fitted["dense1.weight"], saved["dense1.weight"])
    assert np.array_equal(fitted["dense2.weight"], fresh["dense2.weight"])
    program.load_state_dict(fitted)  # complete: loads without error
    saved["extra.weight"] = np.zeros(3)
    _, misfits = fit_weights(program, saved)
    assert misfits[-1].node_id == "extra" and "no longer in the graph" in misfits[-1].message
