"""Learn XOR with a two-layer network, the book's way (chapter 13): Sequential, MSELoss, SGD.

Run ``python examples/xor.py`` (``--steps N`` to change the number of training steps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import SGD, Linear, MSELoss, Sequential, Sigmoid, Tanh, Tensor, data


def train(steps: int = 300, seed: int = 0, verbose: bool = False) -> dict[str, object]:
    """Train the network on the four XOR points; return the losses and final predictions."""
    np.random.seed(seed)
    ds = data.xor()
    inputs, target = Tensor(ds.x, autograd=True), Tensor(ds.y, autograd=True)
    model = Sequential([Linear(2, 8), Tanh(), Linear(8, 1), Sigmoid()])
    criterion = MSELoss()
    optim = SGD(parameters=model.get_parameters(), alpha=0.5)
    losses = []
    for i in range(steps):
        pred = model.forward(inputs)
        loss = criterion.forward(pred, target)
        loss.backward()
        optim.step()
        losses.append(loss.item())
        if verbose and (i % max(1, steps // 10) == 0 or i == steps - 1):
            print(f"step {i:4d}  loss {losses[-1]:.4f}")
    return {"losses": losses, "predictions": model.forward(inputs).numpy().ravel()}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Parse the command line, train, and print the predictions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = train(args.steps, args.seed, verbose=True)
    for x, p in zip(data.xor().x, result["predictions"], strict=True):
        print(f"{x.astype(int).tolist()} -> {p:.3f}")
    return result


if __name__ == "__main__":
    main()
