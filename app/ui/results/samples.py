"""How one sample of a dataset looks: an image, a row of features, or text."""

from __future__ import annotations

import math
from enum import Enum

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from engine.data import Dataset


class SampleKind(Enum):
    """How a dataset's inputs are best shown and edited."""

    IMAGE = "image"
    TABULAR = "tabular"
    TEXT = "text"
    SEQUENCE = "sequence"


def sample_kind(dataset: Dataset) -> SampleKind:
    """Images: (C, H, W) or (H, W) inputs, or square digit vectors; text: a vocabulary;
    sequences: (T, F) inputs; anything else is a row of features."""
    if dataset.vocab is not None:
        return SampleKind.TEXT
    shape = dataset.input_shape
    if len(shape) == 3 or (len(shape) == 2 and dataset.name.startswith("digits")):
        return SampleKind.IMAGE
    if len(shape) == 1 and dataset.name.startswith("digits") and _is_square(shape[0]):
        return SampleKind.IMAGE
    if len(shape) == 2:
        return SampleKind.SEQUENCE
    return SampleKind.TABULAR


def _is_square(n: int) -> bool:
    root = math.isqrt(n)
    return root * root == n and n > 1


def image_shape(dataset: Dataset) -> tuple[int, int]:
    """(height, width) of an image dataset's samples."""
    shape = dataset.input_shape
    if len(shape) == 1:
        side = math.isqrt(shape[0])
        return side, side
    return int(shape[-2]), int(shape[-1])


def pixel_range(dataset: Dataset) -> tuple[float, float]:
    """The smallest and largest input value (the darkest and brightest pixel)."""
    low, high = float(np.min(dataset.x)), float(np.max(dataset.x))
    return low, high if high > low else low + 1.0


def sample_pixmap(dataset: Dataset, index: int, scale: int = 8) -> QPixmap:
    """Sample ``index`` of an image dataset as a grey picture, ``scale`` pixels per value."""
    return array_pixmap(dataset.x[index], dataset, scale)


def array_pixmap(values: np.ndarray, dataset: Dataset, scale: int = 8) -> QPixmap:
    """Input values shaped as one of ``dataset``'s images, drawn dark on light."""
    height, width = image_shape(dataset)
    grid = np.asarray(values, dtype=np.float64).reshape(-1, height, width).mean(axis=0)
    low, high = pixel_range(dataset)
    grey = 255 - np.clip((grid - low) / (high - low) * 255, 0, 255)
    data = np.ascontiguousarray(grey.astype(np.uint8))
    image = QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(
        image.scaled(
            width * scale, height * scale, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    )  # fmt: skip


def sample_text(dataset: Dataset, index: int, limit: int = 80) -> str:
    """Sample ``index`` as text: the characters of a text dataset, else its values."""
    x = dataset.x[index]
    if dataset.vocab is not None:
        return dataset.decode(x)
    values = np.asarray(x, dtype=np.float64).ravel()
    text = ", ".join(f"{v:.3g}" for v in values[:limit])
    return text + (", …" if values.size > limit else "")
