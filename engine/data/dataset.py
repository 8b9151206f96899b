"""The ``Dataset`` record shared by every loader, its error type, and the train/validation split."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["Dataset", "DatasetError", "split"]

Task = Literal["classification", "regression", "language"]


class DatasetError(ValueError):
    """Bad or missing data; the message names the file, line or column at fault.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or None
        The file concerned, when there is one.
    line : int or None
        1-based line number in that file.
    column : str or None
        Column name (or index) concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path, self.line, self.column = path, line, column
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(eq=False)
class Dataset:
    """Inputs and targets as NumPy arrays, with what a trainer needs to know about them.

    Parameters
    ----------
    x : np.ndarray
        Inputs; the first axis indexes samples.
    y : np.ndarray
        Targets; integer class indices for classification and language modelling, floats for
        regression. ``len(y) == len(x)``.
    name : str
        Short name shown to the user.
    task : {'classification', 'regression', 'language'}
        What the targets mean.
    n_classes : int or None
        Number of classes (vocabulary size for language data).
    vocab : list of str or None
        Characters of a language dataset, index = token id.
    positions : np.ndarray or None
        Where each sample starts in one source text (a language dataset's windows); sample ``i``
        reads the ``x.shape[1] + 1`` characters from ``positions[i]`` on. :func:`split` uses it
        to keep overlapping windows apart.

    Examples
    --------
    >>> ds = Dataset(np.zeros((4, 2)), np.array([0, 1, 1, 0]), "toy", "classification", 2)
    >>> len(ds), ds.input_shape
    (4, (2,))
    """

    x: np.ndarray
    y: np.ndarray
    name: str
    task: Task
    n_classes: int | None = None
    vocab: list[str] | None = None
    positions: np.ndarray | None = None
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression", "language"):
            raise DatasetError(f"dataset {self.name!r}: unknown task {self.task!r}")
        if len(self.x) == 0:
            raise DatasetError(f"dataset {self.name!r} is empty")
        if len(self.x) != len(self.y):
            raise DatasetError(
                f"dataset {self.name!r}: {len(self.x)} inputs but {len(self.y)} targets"
            )
        if self.positions is not None and len(self.positions) != len(self.x):
            raise DatasetError(
                f"dataset {self.name!r}: {len(self.x)} inputs but {len(self.positions)} positions"
            )
        if self.vocab is not None:
            self._index = {ch: i for i, ch in enumerate(self.vocab)}

    def __len__(self) -> int:
        return len(self.x)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample's input (without the batch axis)."""
        return tuple(self.x.shape[1:])

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of one sample's target (without the batch axis)."""
        return tuple(self.y.shape[1:])

    def subset(self, indices: np.ndarray, name: str | None = None) -> Dataset:
        """Return a dataset of the samples at ``indices`` (same metadata); a run of
        consecutive indices gives views, not copies (the tail split of a text's windows)."""
        rows: np.ndarray | slice = indices
        indices = np.asarray(indices)
        if indices.dtype.kind in "iu" and len(indices) > 1 and bool(np.all(np.diff(indices) == 1)):
            rows = slice(int(indices[0]), int(indices[-1]) + 1)
        positions = None if self.positions is None else self.positions[rows]
        return dataclasses.replace(
            self, x=self.x[rows], y=self.y[rows], name=name or self.name, positions=positions
        )

    def encode(self, text: str) -> np.ndarray:
        """Map characters to token ids (language datasets only).

        Raises
        ------
        DatasetError
            If the dataset has no vocabulary or ``text`` holds an unknown character.
        """
        self._need_vocab()
        try:
            return np.array([self._index[ch] for ch in text], dtype=np.int64)
        except KeyError as err:
            raise DatasetError(
                f"dataset {self.name!r}: character {err.args[0]!r} is not in the vocabulary"
            ) from None

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """Map token ids back to a string (language datasets only)."""
        vocab = self._need_vocab()
        return "".join(vocab[int(i)] for i in np.asarray(ids).ravel())

    def _need_vocab(self) -> list[str]:
        if self.vocab is None:
            raise DatasetError(f"dataset {self.name!r} has no vocabulary (not a text dataset)")
        return self.vocab


def split(dataset: Dataset, val_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Cut a dataset into a training and a validation set.

    The samples are shuffled with ``seed`` and the first ``val_fraction`` of them validate. When
    the samples are overlapping windows of one text (:attr:`Dataset.positions`, e.g.
    ``text(stride=...)`` below ``seq_len``), a shuffled cut would put copies of validation
    characters into training; the last windows of the text validate instead, and the training
    windows that reach into them are dropped, so no character feeds both sets.

    Parameters
    ----------
    dataset : Dataset
        The data to split.
    val_fraction : float
        Share of samples for validation, strictly between 0 and 1.
    seed : int
        Seed of the permutation; the same seed gives the same split.

    Returns
    -------
    (Dataset, Dataset)
        ``(train, val)``; each keeps the metadata of ``dataset``.

    Raises
    ------
    DatasetError
        If ``val_fraction`` is out of range or either part would be empty.

    Examples
    --------
    >>> ds = Dataset(np.arange(10.0)[:, None], np.arange(10), "toy", "regression")
    >>> train, val = split(ds, 0.3, seed=1)
    >>> len(train), len(val)
    (7, 3)
    """
    n, n_val = len(dataset), _validation_count(dataset, val_fraction)
    if _overlapping(dataset):
        train_rows, val_rows = _tail_split(dataset, n_val)
    else:
        order = np.random.default_rng(seed).permutation(n)
        train_rows, val_rows = order[n_val:], order[:n_val]
    return (
        dataset.subset(train_rows, f"{dataset.name} (train)"),
        dataset.subset(val_rows, f"{dataset.name} (val)"),
    )


def split_sizes(dataset: Dataset, val_fraction: float = 0.2) -> tuple[int, int]:
    """The sizes of :func:`split`'s training and validation parts, without making them.

    Raises
    ------
    DatasetError
        As :func:`split` would (a part would be empty, or no training window ends before the
        validation windows of a text begin).
    """
    n_val = _validation_count(dataset, val_fraction)
    if _overlapping(dataset):
        assert dataset.positions is not None
        first = _ordered(dataset.positions)[len(dataset) - n_val]
        return int(np.count_nonzero(_before(dataset, first, n_val))), n_val
    return len(dataset) - n_val, n_val


def _validation_count(dataset: Dataset, val_fraction: float) -> int:
    """How many samples validate; a clear error when either part would be empty."""
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    n = len(dataset)
    n_val = round(n * val_fraction)
    if n_val == 0 or n_val == n:
        raise DatasetError(
            f"dataset {dataset.name!r}: {n} samples cannot be split with val_fraction "
            f"{val_fraction} (one part would be empty)"
        )
    return n_val


def _overlapping(dataset: Dataset) -> bool:
    """Whether two of the dataset's windows share input characters."""
    if dataset.positions is None or len(dataset) < 2:
        return False
    return bool(np.diff(_ordered(dataset.positions)).min() < dataset.x.shape[1])


def _ordered(positions: np.ndarray) -> np.ndarray:
    """``positions`` in increasing order (as a text's windows already are: no sort then)."""
    return positions if bool(np.all(positions[1:] >= positions[:-1])) else np.sort(positions)


def _tail_split(dataset: Dataset, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the training and validation windows: the last ``n_val`` windows of the text
    validate; training keeps the windows that end before the first of them begins."""
    assert dataset.positions is not None
    order = np.argsort(dataset.positions, kind="stable")
    val_rows = order[len(order) - n_val :]
    first = dataset.positions[val_rows].min()
    return np.flatnonzero(_before(dataset, first, n_val)), val_rows


def _before(dataset: Dataset, first: int, n_val: int) -> np.ndarray:
    """Which windows end (their last target character included) before position ``first``;
    a clear error when none does."""
    assert dataset.positions is not None
    span = dataset.x.shape[1] + 1  # a window reads its inputs and one more target character
    kept = dataset.positions + span <= first
    if not kept.any():
        raise DatasetError(
            f"dataset {dataset.name!r}: no training window ends before the last {n_val} of "
            f"{len(dataset)} windows, which validate; lower the validation split or use a "
            "longer text"
        )
    return np.asarray(kept, dtype=bool)
