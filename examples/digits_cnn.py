"""Classify scikit-learn's 8×8 handwritten digits with a small convolutional network.

Run ``python examples/digits_cnn.py`` (``--epochs N`` to shorten, ``--device gpu`` to train on
a GPU; about 98-99% validation accuracy at the default 15 epochs).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from digits_mlp import fit, run_cli  # the same training loop as the MLP example

from engine import (
    Adam,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Relu,
    Sequential,
    data,
)


def build_model() -> Sequential:
    """Conv(1→16) - ReLU - pool - Conv(16→32) - ReLU - pool - Linear(128→10)."""
    return Sequential(
        [
            Conv2d(1, 16, 3, padding=1),
            Relu(),
            MaxPool2d(2),  # 16×4×4
            Conv2d(16, 32, 3, padding=1),
            Relu(),
            MaxPool2d(2),  # 32×2×2
            Flatten(),
            Linear(128, 10),
        ]
    )


def train(
    epochs: int = 15, seed: int = 0, verbose: bool = False, device: str = "cpu"
) -> dict[str, float]:
    """Train on 80% of the digit images; return the final training loss and validation accuracy."""
    np.random.seed(seed)
    train_set, val_set = data.split(data.digits(images=True), val_fraction=0.2, seed=seed)
    model = build_model().to(device)
    optim = Adam(model.get_parameters(), alpha=0.003)
    return fit(model, optim, train_set, val_set, epochs, seed, verbose, device)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Parse the command line, train, and print the validation accuracy."""
    return run_cli(train, __doc__.splitlines()[0], 15, argv)


if __name__ == "__main__":
    main()
