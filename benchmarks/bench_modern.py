"""Issue 14's ``bench_train.py`` workloads: ``transformer_char`` and ``gru_char``.

``transformer_char``: a causal character transformer, batch 32, 64 steps, vocabulary 64,
d_model 128, 4 heads, 2 pre-norm GELU encoder layers with dim_feedforward 512, trained with
AdamW. ``gru_char``: ``lstm_char``'s shapes (batch 32, 25 steps, vocabulary 64, embedding 64,
hidden 256) with a GRU, trained with SGD.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import (
    GRU,
    SGD,
    AdamW,
    CrossEntropyLoss,
    Embedding,
    Linear,
    PositionalEmbedding,
    Sequential,
    Tensor,
    TransformerEncoderLayer,
    backend,
)

Step = Callable[[], object]
TB, TT, VOCAB, D_MODEL, HEADS, LAYERS, FF = 32, 64, 64, 128, 4, 2, 512
GB, GT, EMBED, HIDDEN = 32, 25, 64, 256
ADAMW_LR = 1e-3


def ids(batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Random input and target ids (batch, steps)."""
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (batch, steps)), rng.integers(0, VOCAB, (batch, steps))


def engine_train_step(model: Sequential, optim: Any, batch: int, steps: int, device: str) -> Step:
    """Forward, cross-entropy over every position, backward, the optimizer's step."""
    crit = CrossEntropyLoss()
    x, y = ids(batch, steps)
    xt, y = Tensor(backend.to_device(x, device)), backend.to_device(y, device)

    def step() -> object:
        loss = crit(model(xt), y)
        loss.backward()
        optim.step()
        return loss

    return step


def engine_transformer(device: str) -> Step:
    """Embedding, positional embedding, 2 causal encoder layers, linear head; AdamW."""
    blocks = [
        TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, causal=True)
        for _ in range(LAYERS)
    ]
    model = Sequential(
        [
            Embedding(VOCAB, D_MODEL),
            PositionalEmbedding(TT, D_MODEL),
            *blocks,
            Linear(D_MODEL, VOCAB),
        ]
    )
    model.to(device)
    return engine_train_step(model, AdamW(model.get_parameters(), alpha=ADAMW_LR), TB, TT, device)


def engine_gru(device: str, lr: float) -> Step:
    """Embedding -> GRU -> Linear on every step; SGD."""
    model = Sequential([Embedding(VOCAB, EMBED), GRU(EMBED, HIDDEN), Linear(HIDDEN, VOCAB)])
    model.to(device)
    return engine_train_step(model, SGD(model.get_parameters(), alpha=lr), GB, GT, device)


def torch_train_step(
    torch: Any, model: Any, optim: Any, batch: int, steps: int, device: str
) -> Step:
    """PyTorch's step: zero_grad, forward, cross-entropy over every position, backward, step."""
    where = "cuda" if device == "gpu" else "cpu"
    model.to(where)
    x, y = (torch.from_numpy(a).to(where) for a in ids(batch, steps))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> object:
        optim.zero_grad(set_to_none=True)
        out = model(x)
        loss = loss_fn(out.reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        optim.step()
        return loss

    return step


def torch_transformer(torch: Any, device: str) -> Step:
    """The same transformer from ``torch.nn`` modules (the causal mask as ``is_causal``)."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, D_MODEL)
            self.position = nn.Parameter(torch.randn(TT, D_MODEL) * 0.02)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    D_MODEL, HEADS, FF, 0.0, activation="gelu", batch_first=True, norm_first=True
                )
                for _ in range(LAYERS)
            )
            self.head = nn.Linear(D_MODEL, VOCAB)

        def forward(self, x: Any) -> Any:
            h = self.embed(x) + self.position[: x.shape[1]]
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
            for block in self.blocks:
                h = block(h, src_mask=mask, is_causal=True)
            return self.head(h)

    model = Net()
    optim = torch.optim.AdamW(model.parameters(), lr=ADAMW_LR)
    return torch_train_step(torch, model, optim, TB, TT, device)


def torch_gru(torch: Any, device: str, lr: float) -> Step:
    """nn.Embedding -> nn.GRU -> nn.Linear; SGD."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True)
            self.out = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x: Any) -> Any:
            return self.out(self.gru(self.embed(x))[0])

    model = Net()
    return torch_train_step(
        torch, model, torch.optim.SGD(model.parameters(), lr=lr), GB, GT, device
    )
