"""Text windows with a stride; a validation split that shares no character with training."""

from __future__ import annotations

import numpy as np
import pytest

from engine import data

BODY = "the lighthouse keeper counted ten seconds of dark, then the flash. " * 12


def ids_of(ds: data.Dataset) -> np.ndarray:
    """The whole text as token ids."""
    return ds.encode(BODY)


def touched(ds: data.Dataset) -> set[int]:
    """Every character position a dataset's windows read (their inputs and their targets)."""
    assert ds.positions is not None
    span = ds.x.shape[1] + 1
    return {int(p) + k for p in ds.positions for k in range(span)}


def test_the_default_stride_gives_the_windows_side_by_side_as_before() -> None:
    ds = data.text(BODY, seq_len=7)
    ids = ids_of(ds)
    n = (len(ids) - 1) // 7
    np.testing.assert_array_equal(ds.x, ids[: n * 7].reshape(n, 7))
    np.testing.assert_array_equal(ds.y, ids[1 : n * 7 + 1].reshape(n, 7))
    np.testing.assert_array_equal(ds.positions, np.arange(n) * 7)
    same = data.text(BODY, seq_len=7, stride=7)
    np.testing.assert_array_equal(same.x, ds.x)
    np.testing.assert_array_equal(same.y, ds.y)


@pytest.mark.parametrize(("seq_len", "stride"), [(7, 1), (7, 3), (10, 9), (1, 1)])
def test_a_smaller_stride_overlaps_the_windows(seq_len: int, stride: int) -> None:
    ds = data.text(BODY, seq_len=seq_len, stride=stride)
    ids = ids_of(ds)
    assert len(ds) == (len(ids) - 1 - seq_len) // stride + 1
    assert ds.positions is not None
    for i in (0, 1, len(ds) // 2, len(ds) - 1):
        start = i * stride
        assert ds.positions[i] == start
        np.testing.assert_array_equal(ds.x[i], ids[start : start + seq_len])
        np.testing.assert_array_equal(ds.y[i], ids[start + 1 : start + seq_len + 1])
    assert ds.positions[-1] + seq_len + 1 > len(ids) - stride  # the text's end is used


@pytest.mark.parametrize("stride", [0, -2, 8])
def test_a_stride_outside_one_to_seq_len_is_refused(stride: int) -> None:
    with pytest.raises(
        data.DatasetError, match=f"stride must be between 1 and seq_len = 7, got {stride}"
    ):
        data.text(BODY, seq_len=7, stride=stride)


@pytest.mark.parametrize(
    ("seq_len", "stride", "fraction"), [(7, 1, 0.1), (7, 3, 0.2), (25, 5, 0.1), (12, 11, 0.5)]
)
def test_no_validation_window_shares_a_character_with_a_training_window(
    seq_len: int, stride: int, fraction: float
) -> None:
    ds = data.text(BODY, seq_len=seq_len, stride=stride)
    train, val = data.split(ds, fraction, seed=3)
    assert not touched(train) & touched(val)
    assert len(val) == round(len(ds) * fraction)
    assert val.positions is not None and train.positions is not None
    # validation is the text's tail; training is everything before it but the windows reaching in
    assert val.positions.min() == ds.positions[len(ds) - len(val)]  # type: ignore[index]
    assert max(touched(val)) == max(touched(ds))
    assert len(train) == np.sum(ds.positions + seq_len + 1 <= val.positions.min())  # type: ignore[operator]
    assert len(train) >= len(ds) - len(val) - seq_len // stride - 1
    np.testing.assert_array_equal(train.x, ds.x[train.positions // stride])
    np.testing.assert_array_equal(val.y, ds.y[val.positions // stride])


def test_windows_side_by_side_keep_the_shuffled_split() -> None:
    ds = data.text(BODY, seq_len=7)
    train, val = data.split(ds, 0.25, seed=4)
    order = np.random.default_rng(4).permutation(len(ds))
    n_val = round(len(ds) * 0.25)
    np.testing.assert_array_equal(val.x, ds.x[order[:n_val]])
    np.testing.assert_array_equal(train.y, ds.y[order[n_val:]])
    np.testing.assert_array_equal(train.positions, ds.positions[order[n_val:]])  # type: ignore[index]


def test_a_validation_tail_that_leaves_no_training_window_is_refused() -> None:
    ds = data.text("abcdefghijklmnop", seq_len=6, stride=1)  # 10 windows, each 7 characters
    with pytest.raises(data.DatasetError, match="no training window ends before the last 5"):
        data.split(ds, 0.5)


def test_positions_must_match_the_samples() -> None:
    with pytest.raises(data.DatasetError, match="3 inputs but 2 positions"):
        data.Dataset(
            np.zeros((3, 2)), np.zeros((3, 2)), "t", "language", 2, ["a", "b"], np.arange(2)
        )


def test_a_long_line_of_text_is_text_not_a_file_name() -> None:
    """A one-line text longer than a file name may be used to raise 'File name too long'."""
    line = "word " * 200
    assert data.text(line, seq_len=4).decode(data.text(line, seq_len=4).x[0]) == "word"
    assert data.text("a\0b" * 3, seq_len=2).vocab == ["\0", "a", "b"]


def test_the_bundled_corpora_are_read_by_name() -> None:
    small, large = data.text(), data.text(corpus="stories")
    assert small.name == "lighthouse" and large.name == "stories"
    assert data.CORPORA["lighthouse"] == data.DEFAULT_CORPUS
    stories = data.CORPORA["stories"].read_text(encoding="utf-8")
    assert stories.startswith(data.DEFAULT_CORPUS.read_text(encoding="utf-8"))
    assert 50_000 < len(stories) < 100_000
    assert len(large) == (len(stories) - 1) // 25
    with pytest.raises(data.DatasetError, match="no bundled corpus 'poems'; the corpora are"):
        data.text(corpus="poems")


def test_overlapping_windows_are_views_of_the_text_not_copies() -> None:
    """stories (88 KB) at seq_len 1000, stride 1 would hold 1.3 GiB of windows as copies; as
    read-only views they cost the text's ids, and the tail split keeps them views."""
    ds = data.text(corpus="stories", seq_len=1000, stride=1)
    owned = sum(a.nbytes for a in (ds.x, ds.y) if a.base is None)
    assert owned == 0 and not ds.x.flags.writeable
    assert np.shares_memory(ds.x, ds.y)  # y is x one character on
    np.testing.assert_array_equal(ds.x[5, 1:], ds.y[5, :-1])
    train, val = data.split(ds, 0.1)
    assert np.shares_memory(train.x, ds.x) and np.shares_memory(val.x, ds.x)
    assert train.positions is not None and val.positions is not None
    assert train.positions[-1] + 1000 <= val.positions[0]  # no character in both
    batch = next(iter(data.DataLoader(train, 32, shuffle=True)))[0]
    assert batch.shape == (32, 1000) and batch.flags.writeable  # batches are copies
