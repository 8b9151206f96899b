"""Names Python reads as equal (NFKC) stay apart in exported scripts, and a block exposes an
inner parameter at most once."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.graph import io
from app.graph.blocks.grouping import expose, group
from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError, GraphError
from app.graph.export import export_python, export_torch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPORTERS = [export_python, export_torch]


def run_predict(code: str, folder: Path, x: np.ndarray) -> Any:
    """Write ``code`` to a file, import it and return ``predict(x)``."""
    script = folder / "model.py"
    script.write_text(code, encoding="utf-8")
    return runpy.run_path(str(script), run_name="exported")["predict"](x)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_two_exposed_names_equal_after_nfkc_export_a_valid_script(
    exporter: Any, tmp_path: Path
) -> None:
    """'units' and 'ｕnits' (fullwidth u) read as one name to Python (identifiers are
    NFKC-normalised): the second is refused as a duplicate, and the script stays valid."""
    if exporter is export_torch:
        pytest.importorskip("torch")
    doc = io.load(EXAMPLES / "spiral.nodegrad")
    doc.apply(group(doc, ["dense1", "relu1", "dense2"], name="dense_relu"))
    doc.apply(expose(doc, "dense_relu", "dense1", "units", "units"))
    with pytest.raises(GraphError, match="already has a parameter 'units'"):
        doc.apply(expose(doc, "dense_relu", "dense2", "units", "\uff55nits"))
    out = run_predict(exporter(doc), tmp_path, np.zeros((3, 2), np.float32))
    assert np.asarray(out).shape == (3, 3)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_node_ids_equal_after_nfkc_do_not_share_one_attribute(
    exporter: Any, tmp_path: Path
) -> None:
    """Node ids 'dense1' and 'ｄense1' (fullwidth d) are one attribute name to Python: the
    script gives them two (dense1, dense1_2), so neither layer replaces the other."""
    if exporter is export_torch:
        pytest.importorskip("torch")
    text = io.dumps(io.load(EXAMPLES / "spiral.nodegrad")).replace('"dense2"', '"\\uff44ense1"')
    doc = GraphDocument.from_dict(json.loads(text))
    assert "\uff44ense1" in doc.nodes and "dense1" in doc.nodes
    try:
        code = exporter(doc)
    except GraphError:
        return  # a clear refusal would do as well
    out = run_predict(code, tmp_path, np.zeros((3, 2), np.float32))
    assert np.asarray(out).shape == (3, 3)


def test_one_inner_parameter_exposed_twice_is_refused() -> None:
    """Exposing conv2's out_channels twice (as 'channels' and 'ch2') would show two block
    parameters of which the first does nothing: refused, in the editor and in a file."""
    doc = io.load(EXAMPLES / "residual_blocks.nodegrad")
    with pytest.raises(GraphError):
        doc.apply(expose(doc, "residual", "conv2", "out_channels", "ch2"))
    data = json.loads(io.dumps(doc))
    data["blocks"][0]["exposed"].append({"name": "ch2", "node": "conv2", "param": "out_channels"})
    with pytest.raises(FileFormatError, match=r"blocks\[0\]\.exposed"):
        io.loads(json.dumps(data))
