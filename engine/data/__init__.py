"""Datasets that need no download, a train/validation split and a mini-batch loader.

Every constructor returns a :class:`Dataset` of NumPy arrays; bad input raises
:class:`DatasetError` naming the file, line or column at fault.
"""

from __future__ import annotations

from engine.data.dataset import Dataset, DatasetError, split, split_sizes
from engine.data.loader import DataLoader
from engine.data.synthetic import circles, moons, sine_sequence, spiral, xor
from engine.data.tabular import breast_cancer, csv, digits, iris, npz, wine
from engine.data.text import CORPORA, DEFAULT_CORPUS, text

__all__ = [
    "CORPORA",
    "DEFAULT_CORPUS",
    "DataLoader",
    "Dataset",
    "DatasetError",
    "breast_cancer",
    "circles",
    "csv",
    "digits",
    "iris",
    "moons",
    "npz",
    "sine_sequence",
    "spiral",
    "split",
    "split_sizes",
    "text",
    "wine",
    "xor",
]
