"""Validation says, on the data node, when the validation split cannot divide the samples, as
training would only when it starts."""

from __future__ import annotations

from pathlib import Path

from app.graph import io
from app.graph.session import Session
from app.graph.validate import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_split_that_leaves_a_part_empty_is_an_error_on_the_data_node() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")  # 4 samples
    doc.set_setting("val_split", 0.1)
    (problem,) = validate(doc).errors
    assert problem.node_id == "xor"
    assert "4 samples cannot be split with val_fraction 0.1" in problem.message
    assert "change the Validation split" in problem.message
    doc.set_setting("val_split", 0.0)
    assert validate(doc).ok


def test_a_short_text_whose_windows_all_validate_is_an_error_before_training() -> None:
    doc = io.load(EXAMPLES / "char_lstm.nodegrad")
    data = next(n for n in doc.nodes.values() if n.type_id == "dataset")
    doc.set_param(data.id, "corpus", "lighthouse")
    doc.set_param(data.id, "seq_len", 1000)
    doc.set_param(data.id, "stride", 1)
    doc.set_setting("val_split", 0.9)
    errors = validate(doc).errors
    assert [e.node_id for e in errors] == [data.id]
    assert "no training window ends before" in errors[0].message
    doc.set_setting("val_split", 0.1)
    assert validate(doc).ok
    assert Session(doc).train_set is not None
