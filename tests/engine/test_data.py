"""engine.data: datasets, errors naming file/line/column, split and DataLoader."""

from __future__ import annotations

import numpy as np
import pytest

from engine import data
from engine.data import DataLoader, Dataset, DatasetError, split


@pytest.mark.parametrize(
    ("make", "shape", "n_classes"),
    [
        (lambda: data.spiral(4, 50), (200, 2), 4),
        (lambda: data.moons(120), (120, 2), 2),
        (lambda: data.circles(80), (80, 2), 2),
        (lambda: data.iris(), (150, 4), 3),
        (lambda: data.wine(), (178, 13), 3),
        (lambda: data.breast_cancer(), (569, 30), 2),
        (lambda: data.digits(), (1797, 64), 10),
        (lambda: data.digits(images=True), (1797, 1, 8, 8), 10),
    ],
)
def test_classification_datasets(make, shape, n_classes):
    ds = make()
    assert ds.x.shape == shape and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.y.shape == (shape[0],)
    assert ds.task == "classification" and ds.n_classes == n_classes
    assert set(np.unique(ds.y)) == set(range(n_classes))


def test_standardised_features_and_digit_range():
    x = data.wine().x
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0), 1, atol=1e-4)
    d = data.digits().x
    assert d.min() == 0.0 and d.max() == 1.0


def test_synthetic_are_seeded():
    a, b, c = data.spiral(seed=1), data.spiral(seed=1), data.spiral(seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_xor_and_sine():
    ds = data.xor()
    assert ds.task == "regression" and ds.y.shape == (4, 1)
    np.testing.assert_array_equal(ds.y.ravel(), np.logical_xor(ds.x[:, 0], ds.x[:, 1]))
    s = data.sine_sequence(10, 15, seed=3)
    assert s.x.shape == (10, 15, 1)
    np.testing.assert_allclose(s.x[:, 1:], s.y[:, :-1])


def test_text_default_corpus_round_trip():
    ds = data.text(seq_len=20)
    assert ds.task == "language" and ds.n_classes == len(ds.vocab) > 20
    assert ds.x.shape[1] == 20 and ds.x.shape == ds.y.shape
    np.testing.assert_array_equal(ds.x[:, 1:], ds.y[:, :-1])
    np.testing.assert_array_equal(ds.x[1:, 0], ds.y[:-1, -1])
    corpus = data.DEFAULT_CORPUS.read_text(encoding="utf-8")
    assert ds.decode(ds.x[0]) == corpus[:20]
    assert ds.decode(ds.encode("The light")) == "The light"


def test_text_file_and_errors(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("hello world, hello moon", encoding="utf-8")
    ds = data.text(path, seq_len=5)
    assert ds.name == "tiny" and ds.decode(ds.x[0]) == "hello"
    assert data.text(str(path), seq_len=5).vocab == ds.vocab
    with pytest.raises(DatasetError, match=r"missing\.txt.*not found"):
        data.text(str(tmp_path / "missing.txt"))
    with pytest.raises(DatasetError, match=r"corpora/missing: file not found"):
        data.text("corpora/missing")
    with pytest.raises(DatasetError, match="seq_len"):
        data.text("abc", seq_len=5)
    with pytest.raises(DatasetError, match="'z' is not in the vocabulary"):
        ds.encode("z")
    with pytest.raises(DatasetError, match="no vocabulary"):
        data.xor().decode([0])


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_csv_with_header_and_text_labels(tmp_path):
    path = write(tmp_path, "flowers.csv", "a,kind,b\n1,red,2\n3,blue,4\n\n5,red,6\n")
    ds = data.csv(path, target="kind")
    assert ds.x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert ds.y.tolist() == [1, 0, 1] and ds.n_classes == 2 and ds.name == "flowers"


def test_csv_without_header_and_regression(tmp_path):
    path = write(tmp_path, "r.csv", "1,2,0.5\n3,4,1.5\n")
    ds = data.csv(path)
    assert ds.task == "regression" and ds.y.shape == (2, 1)
    ints = data.csv(write(tmp_path, "c.csv", "1,2,0\n3,4,2\n"), target=2)
    assert ints.task == "classification" and ints.n_classes == 3


@pytest.mark.parametrize(
    ("body", "kwargs", "pattern"),
    [
        ("", {}, r"bad.csv: the file is empty"),
        ("a,b\n", {}, "no data rows"),
        ("a,b,c\n1,2,3\n4,5\n", {}, r"bad.csv, line 3: expected 3 fields, found 2"),
        ("a,b,c\n1,2,3\n\n4,x,6\n", {}, r"line 4, column 'b': non-numeric value 'x'"),
        ("a,b\n1,2\n", {"target": "c"}, "no target column 'c'"),
        ("a,b\n1,2\n", {"target": 5}, "out of range"),
        ("a,b\n1,x\n", {"target": "b", "task": "regression"}, "regression target must be"),
    ],
)
def test_csv_errors_name_the_place(tmp_path, body, kwargs, pattern):
    with pytest.raises(DatasetError, match=pattern):
        data.csv(write(tmp_path, "bad.csv", body), **kwargs)


def test_csv_missing_file(tmp_path):
    with pytest.raises(DatasetError, match=r"nope\.csv: file not found"):
        data.csv(tmp_path / "nope.csv", target=0)


def test_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((5, 3)), y=np.arange(5))
    ds = data.npz(path)
    assert ds.x.dtype == np.float32 and ds.n_classes == 5
    np.savez(tmp_path / "r.npz", x=np.ones((2, 3)), y=np.ones(2))
    assert data.npz(tmp_path / "r.npz").task == "regression"
    np.savez(tmp_path / "bad.npz", x=np.ones((2, 3)))
    with pytest.raises(DatasetError, match=r"bad.npz: missing array\(s\) \['y'\]"):
        data.npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{}], dtype=object), y=np.ones(1))
    with pytest.raises(DatasetError, match=r"obj\.npz"):
        data.npz(tmp_path / "obj.npz")


def test_dataset_validation():
    with pytest.raises(DatasetError, match="empty"):
        Dataset(np.zeros((0, 2)), np.zeros(0), "e", "regression")
    with pytest.raises(DatasetError, match="3 inputs but 2 targets"):
        Dataset(np.zeros((3, 2)), np.zeros(2), "e", "regression")
    with pytest.raises(DatasetError, match="unknown task"):
        Dataset(np.zeros((3, 2)), np.zeros(3), "e", "clustering")


def test_split_is_seeded_and_disjoint():
    ds = Dataset(np.arange(100.0)[:, None], np.arange(100), "n", "regression")
    train, val = split(ds, 0.25, seed=4)
    assert len(train) == 75 and len(val) == 25
    assert sorted(np.concatenate([train.y, val.y]).tolist()) == list(range(100))
    again, _ = split(ds, 0.25, seed=4)
    np.testing.assert_array_equal(train.y, again.y)
    for bad in (0.0, 1.0, 0.001):
        with pytest.raises(DatasetError):
            split(ds, bad)


def test_dataloader_covers_every_sample_each_epoch():
    ds = data.spiral(2, 25)
    loader = DataLoader(ds, batch_size=8, seed=3)
    assert len(loader) == 7
    epochs = [np.concatenate([yb for _, yb in loader]) for _ in range(2)]
    assert all(sorted(e.tolist()) == sorted(ds.y.tolist()) for e in epochs)
    first = next(iter(DataLoader(ds, batch_size=8, seed=3)))[0]
    np.testing.assert_array_equal(first, next(iter(DataLoader(ds, batch_size=8, seed=3)))[0])
    assert not np.array_equal(epochs[0], epochs[1])
    assert len(DataLoader(ds, batch_size=8, drop_last=True)) == 6
    with pytest.raises(DatasetError, match="batch_size"):
        DataLoader(ds, batch_size=0)
