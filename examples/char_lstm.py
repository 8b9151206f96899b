"""A character-level LSTM language model on the bundled corpus, then a generated sample.

Run ``python examples/char_lstm.py`` (``--epochs N`` to shorten, ``--text FILE`` for your own
``.txt``, ``--device gpu`` to train on a GPU). The loss starts at ln(vocabulary size), the loss
of a uniform guess, and falls well below it.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import (
    LSTM,
    Adam,
    CrossEntropyLoss,
    DeviceError,
    Embedding,
    Layer,
    Linear,
    Tensor,
    backend,
    data,
)


class CharModel(Layer):
    """Embedding -> LSTM -> Linear read-out at every time step.

    Shape
    -----
    Token ids (B, T) -> logits (B, T, vocab_size).
    """

    def __init__(self, vocab_size: int, embed: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.embed = Embedding(vocab_size, embed)
        self.lstm = LSTM(embed, hidden)
        self.head = Linear(hidden, vocab_size)
        self.head.weight.data *= 0  # as the book: the first prediction is uniform

    def forward(self, ids: np.ndarray) -> Tensor:
        """Return the logits of the next character at every position."""
        return self.head(self.lstm(self.embed(ids)))

    def generate(
        self, ds: data.Dataset, prefix: str, length: int, seed: int = 0, temperature: float = 0.7
    ) -> str:
        """Continue ``prefix`` by ``length`` characters sampled one at a time."""
        rng = np.random.default_rng(seed)
        table, w, b = self.embed.weight.data, self.head.weight.data, self.head.bias.data
        xp = backend.get_array_module(table)
        hidden, state = self.lstm.run(table[xp.asarray(ds.encode(prefix))][None])
        out = []
        for _ in range(length):
            logits = backend.to_numpy(hidden[0, -1] @ w + b) / temperature
            p = np.exp(logits - logits.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            hidden, state = self.lstm.run(table[xp.asarray([nxt])][None], state)
        return prefix + ds.decode(out)


def train(
    epochs: int = 30,
    seed: int = 0,
    text: str | None = None,
    verbose: bool = False,
    device: str = "cpu",
) -> dict[str, object]:
    """Train on the corpus; return the losses, ln(vocab) and a generated sample."""
    np.random.seed(seed)
    ds = data.text(text, seq_len=32)
    model = CharModel(ds.n_classes).to(device)
    criterion = CrossEntropyLoss()
    optim = Adam(model.get_parameters(), alpha=0.01)
    loader = data.DataLoader(ds, batch_size=16, shuffle=True, seed=seed)
    losses: list[float] = []
    for epoch in range(epochs):
        for x, y in loader:
            loss = criterion(model(backend.to_device(x, device)), backend.to_device(y, device))
            loss.backward()
            optim.step()
            losses.append(loss.item())
        if verbose:
            recent, uniform = np.mean(losses[-len(loader) :]), math.log(ds.n_classes)
            print(f"epoch {epoch + 1:3d}  loss {recent:.3f}  (uniform guess: {uniform:.3f})")
    sample = model.generate(ds, "The ", 200, seed=seed)
    return {"losses": losses, "uniform_loss": math.log(ds.n_classes), "sample": sample}


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Parse the command line, train, and print a generated sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--text", default=None, help="a .txt file (default: bundled corpus)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    args = parser.parse_args(argv)
    try:
        result = train(args.epochs, args.seed, args.text, verbose=True, device=args.device)
    except DeviceError as error:  # no usable GPU: say why, no traceback
        parser.error(str(error))
    print("sample:", result["sample"], sep="\n")
    return result


if __name__ == "__main__":
    main()
