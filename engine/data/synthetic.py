"""Small generated datasets: XOR, spirals, moons, circles and sine sequences."""

from __future__ import annotations

import numpy as np

from engine.data.dataset import Dataset, DatasetError

__all__ = ["circles", "moons", "sine_sequence", "spiral", "xor"]


def _positive(name: str, value: int) -> int:
    if int(value) < 1:
        raise DatasetError(f"{name} must be at least 1, got {value}")
    return int(value)


def xor() -> Dataset:
    """The four XOR points with a (4, 1) float target (0 or 1), for MSE or BCE training.

    Examples
    --------
    >>> ds = xor()
    >>> ds.x.tolist(), ds.y.ravel().tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return Dataset(x, y, "xor", "regression")


def spiral(n_classes: int = 3, n_per_class: int = 100, seed: int = 0) -> Dataset:
    """Interleaved 2-D spiral arms, one class per arm.

    Parameters
    ----------
    n_classes : int
        Number of arms (classes).
    n_per_class : int
        Points per arm.
    seed : int
        Seed of the angular noise.

    Returns
    -------
    Dataset
        ``x`` float32 (n_classes * n_per_class, 2), ``y`` int64 class ids.
    """
    n_classes = _positive("n_classes", n_classes)
    n = _positive("n_per_class", n_per_class)
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n), n_classes)
    labels = np.repeat(np.arange(n_classes), n)
    angle = labels * (2 * np.pi / n_classes) + radius * 4.0 + rng.normal(0, 0.2, n * n_classes)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return Dataset(
        x.astype(np.float32), labels.astype(np.int64), "spiral", "classification", n_classes
    )


def moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (two classes).

    Parameters
    ----------
    n_samples : int
        Total number of points.
    noise : float
        Standard deviation of the Gaussian noise added to the points.
    seed : int
        Seed of the sampling and noise.
    """
    n = _positive("n_samples", n_samples)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(
        labels[:, None] == 0,
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    x = x + rng.normal(0.0, noise, x.shape)
    return Dataset(x.astype(np.float32), labels.astype(np.int64), "moons", "classification", 2)


def circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> Dataset:
    """A small circle inside a large one (two classes: 0 outer, 1 inner).

    Parameters
    ----------
    n_samples : int
        Total number of points.
    noise : float
        Standard deviation of the Gaussian noise.
    factor : float
        Radius of the inner circle relative to the outer one (0 < factor < 1).
    seed : int
        Seed of the sampling and noise.
    """
    n = _positive("n_samples", n_samples)
    if not 0.0 < factor < 1.0:
        raise DatasetError(f"factor must be between 0 and 1, got {factor}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    t = rng.uniform(0.0, 2 * np.pi, n)
    r = np.where(labels == 0, 1.0, factor)
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1) + rng.normal(0.0, noise, (n, 2))
    return Dataset(x.astype(np.float32), labels.astype(np.int64), "circles", "classification", 2)


def sine_sequence(n_sequences: int = 200, seq_len: int = 20, seed: int = 0) -> Dataset:
    """Sine waves of random phase and frequency, for next-value prediction.

    Parameters
    ----------
    n_sequences : int
        Number of sequences.
    seq_len : int
        Time steps per sequence.
    seed : int
        Seed of the phases and frequencies.

    Returns
    -------
    Dataset
        ``x`` float32 (N, T, 1) holds the values at steps 0..T-1 and ``y`` (N, T, 1) the values
        at steps 1..T (the next value at every step); task ``'regression'``.

    Examples
    --------
    >>> ds = sine_sequence(4, 10)
    >>> ds.x.shape, ds.y.shape, bool(np.allclose(ds.x[:, 1:], ds.y[:, :-1]))
    ((4, 10, 1), (4, 10, 1), True)
    """
    n = _positive("n_sequences", n_sequences)
    t_len = _positive("seq_len", seq_len)
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    freq = rng.uniform(0.1, 0.4, (n, 1))
    wave = np.sin(phase + freq * np.arange(t_len + 1)[None, :])
    x = wave[:, :-1, None].astype(np.float32)
    y = wave[:, 1:, None].astype(np.float32)
    return Dataset(x, y, "sine_sequence", "regression")
