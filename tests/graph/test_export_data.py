"""The PyTorch script's own data code gives exactly the arrays (and the split) of engine.data."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.graph.export.standalone_data import SPLIT, corpus_literal, data_function
from app.graph.specs import get_spec
from app.graph.specs.data import load_dataset
from engine import data
from engine.data.text import DEFAULT_CORPUS


def run_loader(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Execute the generated ``load_data()`` with what the script imports."""
    from sklearn import datasets

    namespace: dict[str, Any] = {"np": np, "csv": csv, "Path": Path, "datasets": datasets}
    corpus = "\n".join(corpus_literal(DEFAULT_CORPUS.read_text(encoding="utf-8")))
    exec(corpus, namespace)
    exec("\n".join([*data_function(params), "", *SPLIT.splitlines()]), namespace)
    x, y = namespace["load_data"]()
    return x, y


def params(**values: Any) -> dict[str, Any]:
    return get_spec("dataset").coerce_params(values)


def write_csv(path: Path, rows: list[list[Any]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def same(ours: tuple[np.ndarray, np.ndarray], theirs: data.Dataset) -> None:
    for mine, ref in zip(ours, (theirs.x, theirs.y), strict=True):
        assert mine.dtype == ref.dtype and mine.shape == ref.shape
        np.testing.assert_array_equal(mine, ref)


@pytest.mark.parametrize(
    "values",
    [
        {"name": "xor"},
        {"name": "spiral"},
        {"name": "moons"},
        {"name": "circles"},
        {"name": "sine_sequence", "seq_len": 13},
        {"name": "digits"},
        {"name": "digits", "images": True},
        {"name": "iris"},
        {"name": "wine"},
        {"name": "breast_cancer"},
        {"name": "text", "seq_len": 17},
    ],
    ids=lambda v: "-".join(str(x) for x in v.values()),
)
def test_built_in_datasets(values: dict[str, Any]) -> None:
    p = params(**values)
    same(run_loader(p), load_dataset(p))


def test_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=30), rng.normal(size=30), rng.choice(["cat", "dog"], 30)
    cases = [
        [["f1", "f2", "label"], *([f"{a[k]:.3f}", f"{b[k]:.3f}", c[k]] for k in range(30))],
        [["u", "target", "v"], *([1.5 * k, k % 3, -k] for k in range(30))],
        [["u", "target"], *([k, 0.25 * k] for k in range(30))],
        [[k, k * 2, k % 2] for k in range(30)],  # no header: columns 0, 1, 2
    ]  # fmt: skip
    for k, (rows, target) in enumerate(zip(cases, ["label", "target", "target", "2"], strict=True)):
        path = write_csv(tmp_path / f"t{k}.csv", rows)
        p = params(name="csv", path=path, target=target)
        same(run_loader(p), load_dataset(p))
    for y in (np.arange(20) % 3, np.linspace(0, 1, 20)):
        np.savez(tmp_path / "d.npz", x=rng.normal(size=(20, 2, 3)), y=y)
        p = params(name="npz", path=str(tmp_path / "d.npz"))
        same(run_loader(p), data.npz(tmp_path / "d.npz"))
    (tmp_path / "t.txt").write_text("héllo wörld, " * 20, encoding="utf-8")
    p = params(name="text", path=str(tmp_path / "t.txt"), seq_len=9)
    same(run_loader(p), load_dataset(p))


def test_split_matches_the_engines() -> None:
    namespace: dict[str, Any] = {"np": np}
    exec(SPLIT, namespace)
    ds = data.spiral()
    (xt, yt), (xv, yv) = namespace["split"](ds.x, ds.y, 0.2, 5)
    train, val = data.split(ds, 0.2, seed=5)
    for mine, ref in ((xt, train.x), (yt, train.y), (xv, val.x), (yv, val.y)):
        np.testing.assert_array_equal(mine, ref)


def test_corpus_literal_round_trips() -> None:
    text = 'a\'b"c\\d\n"""é' * 40
    namespace: dict[str, Any] = {}
    lines = corpus_literal(text)
    exec("\n".join(lines), namespace)
    assert namespace["CORPUS"] == text
    assert max(len(line) for line in lines) <= 100
