"""File > Export carries the editor's trained weights: the script's weights file is written."""

from __future__ import annotations

import runpy

import numpy as np
from ui_driver import digits_document

from app.graph import io
from app.graph.session import Session


def test_export_writes_the_editors_weights_beside_the_script(window, tmp_path) -> None:
    doc = digits_document()
    graph = tmp_path / "digits.nodegrad"
    io.save(doc, graph)
    weights = {k: v + 0.1 for k, v in Session(doc).program.state_dict().items()}
    io.save_weights(weights, io.weights_path(graph))
    assert window.files.open(str(graph))  # the weights beside it go to the training room
    out = tmp_path / "out" / "model.py"
    out.parent.mkdir()
    assert window.files.export("python", out)
    saved = out.with_suffix(".weights.npz")
    assert saved.exists()
    model = runpy.run_path(str(out), run_name="exported")["build_model"]()
    state = model.state_dict()
    assert sorted(state) == sorted(weights)  # node ids are already identifiers here
    for key, value in state.items():
        np.testing.assert_allclose(value, weights[key], rtol=1e-6)
