"""Tabular data: the datasets that ship with scikit-learn, and a user's ``.csv`` or ``.npz``."""

from __future__ import annotations

import csv as _csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.dataset import Dataset, DatasetError, Task

__all__ = ["breast_cancer", "csv", "digits", "iris", "npz", "wine"]


def _standardize(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    out: np.ndarray = ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)
    return out


def _sklearn(loader_name: str, name: str, standardize: bool) -> Dataset:
    from sklearn import datasets  # lazily: slow to import

    loader: Callable[[], Any] = getattr(datasets, loader_name)
    bunch = loader()
    x = np.asarray(bunch.data, dtype=np.float64)
    x = _standardize(x) if standardize else x.astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    return Dataset(x, y, name, "classification", int(y.max()) + 1)


def digits(images: bool = False) -> Dataset:
    """The 1,797 handwritten 8×8 digits shipped with scikit-learn (10 classes, no download).

    Parameters
    ----------
    images : bool
        False: flat vectors (N, 64); True: images (N, 1, 8, 8) for ``Conv2d``.
        Pixel values are scaled to [0, 1].

    Examples
    --------
    >>> digits().x.shape, digits(images=True).x.shape
    ((1797, 64), (1797, 1, 8, 8))
    """
    ds = _sklearn("load_digits", "digits", standardize=False)
    ds.x = ds.x / np.float32(16.0)
    if images:
        ds.x = ds.x.reshape(-1, 1, 8, 8)
    return ds


def iris(standardize: bool = True) -> Dataset:
    """Fisher's 150 irises: 4 features, 3 classes (features standardised by default)."""
    return _sklearn("load_iris", "iris", standardize)


def wine(standardize: bool = True) -> Dataset:
    """178 wines: 13 chemical features, 3 classes (features standardised by default)."""
    return _sklearn("load_wine", "wine", standardize)


def breast_cancer(standardize: bool = True) -> Dataset:
    """569 tumours: 30 features, 2 classes (features standardised by default)."""
    return _sklearn("load_breast_cancer", "breast_cancer", standardize)


def _read_rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise DatasetError("file not found", path=str(path))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in _csv.reader(handle)]
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_index(header: list[str], target: str | int, path: str) -> int:
    if isinstance(target, int):
        if not -len(header) <= target < len(header):
            raise DatasetError(
                f"target column index {target} out of range ({len(header)} columns)", path=path
            )
        return target % len(header)
    if target not in header:
        raise DatasetError(f"no target column {target!r}; columns are {header}", path=path)
    return header.index(target)


def _parse_table(rows: list[list[str]], path: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Return the header, the data rows and each data row's 1-based line number."""
    rows_numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not rows_numbered:
        raise DatasetError("the file is empty", path=path)
    first = rows_numbered[0][1]
    has_header = not all(_is_number(c) for c in first)
    header = [c.strip() for c in first] if has_header else [str(i) for i in range(len(first))]
    body = rows_numbered[1:] if has_header else rows_numbered
    if not body:
        raise DatasetError("the file has a header but no data rows", path=path)
    for line, row in body:
        if len(row) != len(header):
            raise DatasetError(
                f"expected {len(header)} fields, found {len(row)}", path=path, line=line
            )
    return header, [r for _, r in body], [line for line, _ in body]


def _float_column(values: list[str], name: str, path: str, lines: list[int]) -> np.ndarray:
    out = np.empty(len(values))
    for k, text in enumerate(values):
        try:
            out[k] = float(text)
        except ValueError:
            raise DatasetError(
                f"non-numeric value {text!r}", path=path, line=lines[k], column=name
            ) from None
    return out


def csv(path: str | Path, target: str | int = -1, task: Task | None = None) -> Dataset:
    """Load a comma-separated file; every column but ``target`` is a numeric feature.

    Parameters
    ----------
    path : str or Path
        The ``.csv`` file. A first row that is not all numbers is taken as the header.
    target : str or int
        Name (with a header) or index of the target column; default the last one.
    task : {'classification', 'regression'} or None
        None guesses: text labels or at most 50 distinct integer values mean classification.
        Text labels become class ids in sorted order.

    Raises
    ------
    DatasetError
        Missing or empty file, ragged rows (names the line), non-numeric feature (names line
        and column), unknown target column.
    """
    path = Path(path)
    where = str(path)
    header, rows, lines = _parse_table(_read_rows(path), where)
    t = _target_index(header, target, where)
    columns = list(zip(*rows, strict=True))
    features = [
        _float_column(list(col), header[j], where, lines) for j, col in enumerate(columns) if j != t
    ]
    if not features:
        raise DatasetError("the file has no feature columns besides the target", path=where)
    x = np.stack(features, axis=1).astype(np.float32)
    raw = [c.strip() for c in columns[t]]
    if all(_is_number(c) for c in raw):
        values = np.array([float(c) for c in raw])
        integral = bool(np.all(values == np.round(values))) and values.min() >= 0
        guess: Task = "classification" if integral and len(set(raw)) <= 50 else "regression"
        task = task or guess
        if task == "classification":
            if not integral:
                raise DatasetError(
                    "class labels must be non-negative integers", path=where, column=header[t]
                )
            y = values.astype(np.int64)
            return Dataset(x, y, path.stem, task, int(y.max()) + 1)
        return Dataset(x, values.astype(np.float32)[:, None], path.stem, "regression")
    if task == "regression":
        raise DatasetError("a regression target must be numeric", path=where, column=header[t])
    labels = sorted(set(raw))
    lookup = {label: i for i, label in enumerate(labels)}
    y = np.array([lookup[c] for c in raw], dtype=np.int64)
    return Dataset(x, y, path.stem, "classification", len(labels))


def npz(path: str | Path) -> Dataset:
    """Load arrays ``x`` and ``y`` from a NumPy ``.npz`` file (never unpickles).

    Integer ``y`` means classification (``n_classes = max + 1``), float ``y`` regression.

    Raises
    ------
    DatasetError
        Missing file, missing ``x``/``y`` array, mismatched lengths or object arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError("file not found", path=str(path))
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (ValueError, OSError) as err:
        raise DatasetError(f"not a readable .npz archive ({err})", path=str(path)) from None
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DatasetError(f"missing array(s) {missing}; found {sorted(arrays)}", path=str(path))
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise DatasetError(f"x has {len(x)} samples but y has {len(y)}", path=str(path))
    if len(x) == 0:
        raise DatasetError("the arrays are empty", path=str(path))
    x = x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x
    if np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int64)
        return Dataset(x, y, path.stem, "classification", int(y.max()) + 1)
    return Dataset(x, y.astype(np.float32), path.stem, "regression")
