"""Mini-batches over a dataset."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.data.dataset import Dataset, DatasetError

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over ``(x, y)`` NumPy mini-batches of a dataset.

    Parameters
    ----------
    dataset : Dataset or tuple of (np.ndarray, np.ndarray)
        The samples.
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Draw a new permutation at the start of every pass.
    seed : int
        Seed of the shuffling; two loaders with the same seed give the same batches.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Examples
    --------
    >>> x, y = np.arange(10.0)[:, None], np.arange(10)
    >>> [len(yb) for _, yb in DataLoader((x, y), batch_size=4, shuffle=False)]
    [4, 4, 2]
    """

    def __init__(
        self,
        dataset: Dataset | tuple[np.ndarray, np.ndarray],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        x, y = (dataset.x, dataset.y) if isinstance(dataset, Dataset) else dataset
        if len(x) != len(y):
            raise DatasetError(f"{len(x)} inputs but {len(y)} targets")
        if int(batch_size) < 1:
            raise DatasetError(f"batch_size must be at least 1, got {batch_size}")
        self.dataset = dataset
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.x)
        order = self._rng.permutation(n) if self.shuffle else None
        for k in range(len(self)):
            if order is None:
                part = slice(k * self.batch_size, (k + 1) * self.batch_size)
                yield self.x[part], self.y[part]
            else:
                idx = order[k * self.batch_size : (k + 1) * self.batch_size]
                yield self.x[idx], self.y[idx]
