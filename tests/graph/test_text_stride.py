"""The Dataset node's text options: ``stride`` (overlapping windows in the app and in both exports,
with a validation split on the text's tail that no training window touches) and ``corpus``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.graph.document import GraphDocument
from app.graph.export import export_python
from app.graph.export.standalone_data import SPLIT, corpus_literal, data_function, split_function
from app.graph.session import Session
from app.graph.specs import get_spec
from app.graph.specs.data import CORPORA, dataset_call, load_dataset
from app.graph.validate import validate
from engine import data


def params(**values: Any) -> dict[str, Any]:
    return get_spec("dataset").coerce_params({"name": "text", **values})


def language_model(dataset: dict[str, Any], val_split: float = 0.1) -> GraphDocument:
    """Dataset → Embedding → Linear → cross-entropy, on a bundled corpus."""
    vocab = len(data.text(corpus=dataset.get("corpus", "lighthouse")).vocab or [])
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "text", **dataset}, node_id="text")
    doc.add_node("embedding", {"vocab_size": vocab, "dim": 8}, node_id="embed")
    doc.add_node("linear", {"units": vocab}, node_id="logits")
    doc.add_node("cross_entropy_loss", {}, node_id="loss")
    for wire in [
        ("text", "x", "embed", "x"),
        ("embed", "y", "logits", "x"),
        ("logits", "y", "loss", "logits"),
        ("text", "y", "loss", "target"),
    ]:
        doc.connect(*wire)
    doc.set_setting("val_split", val_split)
    doc.set_setting("epochs", 1)
    return doc


def test_stride_defaults_to_windows_side_by_side_and_keeps_the_call_unchanged() -> None:
    p = params(seq_len=12)
    assert p["stride"] == 0
    assert dataset_call(p) == "data.text(None, seq_len=12)"
    ds = load_dataset(p)
    np.testing.assert_array_equal(ds.x, data.text(seq_len=12).x)
    assert dataset_call(params(seq_len=12, stride=3)) == "data.text(None, seq_len=12, stride=3)"
    np.testing.assert_array_equal(
        load_dataset(params(seq_len=12, stride=3)).x, data.text(seq_len=12, stride=3).x
    )


def test_a_stride_longer_than_seq_len_is_an_error_on_the_stride() -> None:
    result = validate(language_model({"seq_len": 10, "stride": 11}))
    [problem] = result.for_node("text")
    assert problem.port == "stride"
    assert "stride 11 is longer than seq_len 10" in problem.message
    assert "use at most 10" in problem.message
    with pytest.raises(Exception, match="expected"):
        params(seq_len=10, stride=-1)


def test_session_validates_on_the_tail_and_trains_on_the_rest() -> None:
    session = Session(language_model({"seq_len": 16, "stride": 4}, val_split=0.2))
    list(session.train(epochs=1))
    train, val = session.train_set, session.val_set
    assert val is not None and train.positions is not None and val.positions is not None
    whole = load_dataset(params(seq_len=16, stride=4))
    assert whole.positions is not None
    assert train.positions.max() + 16 + 1 <= val.positions.min()  # a window reads 17 characters
    assert val.positions.max() == whole.positions.max()
    assert len(train) + len(val) > 0.99 * len(whole)


def run_standalone(p: dict[str, Any], fraction: float) -> tuple[Any, ...]:
    """The PyTorch script's ``load_data()`` and ``split()`` for these Dataset parameters."""
    namespace: dict[str, Any] = {"np": np, "Path": Path}
    corpus = data.CORPORA[p["corpus"]].read_text(encoding="utf-8")
    exec("\n".join(corpus_literal(corpus)), namespace)
    exec("\n".join([*data_function(p), "", *split_function(p)]), namespace)
    x, y = namespace["load_data"]()
    return x, y, namespace["split"](x, y, fraction, 0)


@pytest.mark.parametrize(("seq_len", "stride"), [(17, 5), (25, 1), (8, 7), (12, 12), (12, 0)])
def test_the_pytorch_script_loads_and_splits_as_the_engine(seq_len: int, stride: int) -> None:
    p = params(seq_len=seq_len, stride=stride)
    x, y, ((xt, yt), (xv, yv)) = run_standalone(p, 0.15)
    ds = load_dataset(p)
    np.testing.assert_array_equal(x, ds.x)
    np.testing.assert_array_equal(y, ds.y)
    train, val = data.split(ds, 0.15, seed=0)
    for mine, ref in ((xt, train.x), (yt, train.y), (xv, val.x), (yv, val.y)):
        assert mine.dtype == ref.dtype
        np.testing.assert_array_equal(mine, ref)
    assert (split_function(p) == SPLIT.splitlines()) == (stride in (0, seq_len))


def test_the_engine_script_loads_the_overlapping_windows() -> None:
    code = export_python(language_model({"seq_len": 16, "stride": 4}))
    assert "data.text(None, seq_len=16, stride=4)" in code
    assert "split(dataset, VAL_SPLIT, seed=SEED)" in code


def test_the_corpus_option_names_a_bundled_text() -> None:
    assert tuple(data.CORPORA) == CORPORA
    p = params(seq_len=20, corpus="stories")
    assert dataset_call(p) == "data.text(None, seq_len=20, corpus='stories')"
    assert dataset_call(params(seq_len=20)) == "data.text(None, seq_len=20)"  # as before
    np.testing.assert_array_equal(load_dataset(p).x, data.text(corpus="stories", seq_len=20).x)
    assert get_spec("dataset").summarize(p) == "text: stories"  # type: ignore[misc]
    # a file wins over the corpus, as in the engine
    assert "corpus" not in dataset_call(params(seq_len=20, corpus="stories", path="a.txt"))


def test_the_pytorch_script_carries_the_chosen_corpus() -> None:
    from app.graph.export import export_torch

    doc = language_model({"seq_len": 16, "stride": 4, "corpus": "stories"})
    code = export_torch(doc)
    namespace: dict[str, Any] = {}
    start = code.index("CORPUS = (")
    exec(code[start : code.index("\n)\n", start) + 3], namespace)
    assert namespace["CORPUS"] == data.CORPORA["stories"].read_text(encoding="utf-8")
    _, _, ((xt, _), (xv, _)) = run_standalone(params(seq_len=16, stride=4, corpus="stories"), 0.1)
    train, val = data.split(data.text(corpus="stories", seq_len=16, stride=4), 0.1, seed=0)
    np.testing.assert_array_equal(xt, train.x)
    np.testing.assert_array_equal(xv, val.x)
