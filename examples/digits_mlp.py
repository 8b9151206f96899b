"""Classify scikit-learn's 8×8 handwritten digits with a multilayer perceptron.

Run ``python examples/digits_mlp.py`` (``--epochs N`` to shorten, ``--device gpu`` to train on
a GPU with CuPy; about 97% validation accuracy at the default 20 epochs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import (
    SGD,
    CrossEntropyLoss,
    DeviceError,
    Dropout,
    Layer,
    Linear,
    Relu,
    Sequential,
    Tensor,
    backend,
    data,
    no_grad,
)
from engine.optim import Optimizer


def accuracy(model: Layer, ds: data.Dataset, device: str = "cpu") -> float:
    """Share of samples of ``ds`` whose highest logit is the true class (evaluation mode)."""
    model.eval()
    with no_grad():
        logits = model(Tensor(ds.x).to(device)).numpy()
    model.train()
    return float((logits.argmax(axis=1) == ds.y).mean())


def fit(
    model: Layer,
    optim: Optimizer,
    train_set: data.Dataset,
    val_set: data.Dataset,
    epochs: int,
    seed: int = 0,
    verbose: bool = False,
    device: str = "cpu",
) -> dict[str, float]:
    """Train ``model`` (already on ``device``) with cross-entropy in mini-batches of 32, the
    learning rate decaying along a cosine from ``optim.alpha`` to zero; return the last
    epoch's mean training loss and the validation accuracy."""
    criterion = CrossEntropyLoss()
    loader = data.DataLoader(train_set, batch_size=32, shuffle=True, seed=seed)
    base_alpha, loss = optim.alpha, float("nan")
    for epoch in range(epochs):
        optim.alpha = base_alpha * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        total = 0.0
        for x, y in loader:
            batch_loss = criterion(model(Tensor(x).to(device)), backend.to_device(y, device))
            batch_loss.backward()
            optim.step()
            total += batch_loss.item() * len(y)
        loss = total / len(train_set)
        if verbose:
            val_acc = accuracy(model, val_set, device)
            print(f"epoch {epoch + 1:3d}  loss {loss:.4f}  val acc {val_acc:.3f}")
    return {"train_loss": loss, "val_accuracy": accuracy(model, val_set, device)}


def train(
    epochs: int = 20, seed: int = 0, verbose: bool = False, device: str = "cpu"
) -> dict[str, float]:
    """Train on 80% of the digits; return the final training loss and validation accuracy."""
    np.random.seed(seed)
    train_set, val_set = data.split(data.digits(), val_fraction=0.2, seed=seed)
    model = Sequential([Linear(64, 128), Relu(), Dropout(0.1), Linear(128, 10)]).to(device)
    optim = SGD(model.get_parameters(), alpha=0.1, momentum=0.9)
    return fit(model, optim, train_set, val_set, epochs, seed, verbose, device)


def run_cli(
    train_fn: Callable[..., dict[str, float]], description: str, epochs: int, argv: list[str] | None
) -> dict[str, float]:
    """Parse ``--epochs``/``--seed``/``--device``, call ``train_fn`` verbosely, print the
    accuracy."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    args = parser.parse_args(argv)
    try:
        result = train_fn(args.epochs, args.seed, verbose=True, device=args.device)
    except DeviceError as error:  # no usable GPU: say why, no traceback
        parser.error(str(error))
    print(f"validation accuracy: {result['val_accuracy']:.1%}")
    return result


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Parse the command line, train, and print the validation accuracy."""
    return run_cli(train, __doc__.splitlines()[0], 20, argv)


if __name__ == "__main__":
    main()
