"""The book's way of training an LSTM, as a ``bench_train.py`` workload (``lstm_cell_book``).

*Grokking Deep Learning* (ch. 14) calls ``Embedding.forward`` and ``LSTMCell.forward`` once per
time step and adds a loss per step; PyTorch's counterpart is an ``nn.LSTMCell`` loop doing the
same. Shapes are ``lstm_char``'s: batch 32, 25 steps, vocabulary 64, embedding 64, hidden 256;
the read-out to the vocabulary is the cell's ``w_ho`` (no bias), a ``Linear`` in PyTorch's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import SGD, CrossEntropyLoss, Embedding, LSTMCell, Tensor, backend

B, T, VOCAB, EMBED, HIDDEN = 32, 25, 64, 64, 256


def book_data() -> tuple[np.ndarray, np.ndarray]:
    """Input and target ids (B, T), the same as ``lstm_char``'s."""
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (B, T)), rng.integers(0, VOCAB, (B, T))


def engine_book_lstm(device: str, lr: float) -> Callable[[], object]:
    """One training step of the book's loop: per time step an embedding lookup, a cell step and
    a cross-entropy loss; the losses summed, one backward, one SGD step."""
    embed, cell = Embedding(VOCAB, EMBED), LSTMCell(EMBED, HIDDEN, VOCAB)
    embed.to(device)
    cell.to(device)
    criterion = CrossEntropyLoss()
    optim = SGD(embed.get_parameters() + cell.get_parameters(), alpha=lr)
    x, y = (backend.to_device(a, device) for a in book_data())
    inputs = [Tensor(x[:, t]) for t in range(T)]
    targets = [y[:, t] for t in range(T)]

    def step() -> object:
        hidden: Any = cell.init_hidden(B)
        loss: Any = None
        for t in range(T):
            output, hidden = cell.forward(input=embed.forward(inputs[t]), hidden=hidden)
            term = criterion.forward(output, targets[t])
            loss = term if loss is None else loss + term
        loss.backward()
        optim.step()
        return loss

    return step


def torch_book_lstm(torch: Any, device: str, lr: float) -> Callable[[], object]:
    """The same loop in PyTorch: ``nn.Embedding``, ``nn.LSTMCell``, ``nn.Linear`` (no bias)."""
    dev = "cuda" if device == "gpu" else "cpu"
    nn = torch.nn
    embed, cell = nn.Embedding(VOCAB, EMBED).to(dev), nn.LSTMCell(EMBED, HIDDEN).to(dev)
    read_out = nn.Linear(HIDDEN, VOCAB, bias=False).to(dev)
    params = [*embed.parameters(), *cell.parameters(), *read_out.parameters()]
    optim = torch.optim.SGD(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    x, y = (torch.from_numpy(a).to(dev) for a in book_data())

    def step() -> object:
        optim.zero_grad(set_to_none=True)
        h = torch.zeros(B, HIDDEN, device=dev)
        c = torch.zeros(B, HIDDEN, device=dev)
        loss: Any = None
        for t in range(T):
            h, c = cell(embed(x[:, t]), (h, c))
            term = loss_fn(read_out(h), y[:, t])
            loss = term if loss is None else loss + term
        loss.backward()
        optim.step()
        return loss

    return step
