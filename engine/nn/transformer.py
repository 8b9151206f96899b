"""``TransformerEncoderLayer``: self-attention and a GELU feed-forward block, each residual."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.errors import EngineError
from engine.nn.activation import Dropout
from engine.nn.attention import MultiHeadAttention
from engine.nn.gelu import GELU
from engine.nn.linear import Linear
from engine.nn.module import Layer
from engine.nn.norm import LayerNorm
from engine.nn.torch_state import sub_state, with_prefix
from engine.tensor import Tensor

__all__ = ["TransformerEncoderLayer"]

_PARTS = ("self_attn", "linear1", "linear2", "norm1", "norm2")


class TransformerEncoderLayer(Layer):
    """One transformer encoder block, as ``torch.nn.TransformerEncoderLayer`` with
    ``activation='gelu'`` and ``batch_first=True``.

    Parameters
    ----------
    d_model : int
        Token vector size E.
    nhead : int
        Attention heads (dividing ``d_model``).
    dim_feedforward : int
        Hidden size of the feed-forward block.
    dropout : float
        Dropout on the attention weights, after each block and inside the feed-forward one.
    norm_first : bool
        LayerNorm before each block (pre-norm, the default here) or after each residual sum.
    causal : bool
        Each position attends only to itself and earlier ones (a language model).

    Shape
    -----
    (B, T, d_model) -> (B, T, d_model).

    Notes
    -----
    With ``sa`` the self-attention and ``ff(x) = linear2(dropout(gelu(linear1(x))))``::

        norm_first:  x = x + sa(norm1(x));  x = x + ff(norm2(x))
        otherwise:   x = norm1(x + sa(x));  x = norm2(x + ff(x))

    Sub-layers ``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``: the PyTorch
    state-dict keys. ``linear1``/``linear2`` start as PyTorch's Linear (uniform in
    ``[-1/sqrt(in), 1/sqrt(in)]``, the bias too).

    Examples
    --------
    >>> layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, causal=True)
    >>> layer(Tensor(np.zeros((3, 5, 8)))).shape
    (3, 5, 8)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.0,
        norm_first: bool = True,
        causal: bool = False,
    ) -> None:
        super().__init__()
        if int(dim_feedforward) < 1:
            raise EngineError(f"TransformerEncoderLayer: dim_feedforward {dim_feedforward} < 1")
        self.d_model, self.nhead, self.dim_feedforward = int(d_model), int(nhead), dim_feedforward
        self.p, self.norm_first, self.causal = float(dropout), bool(norm_first), bool(causal)
        self.self_attn = MultiHeadAttention(self.d_model, self.nhead, dropout=self.p)
        self.linear1 = Linear(self.d_model, self.dim_feedforward)
        self.linear2 = Linear(self.dim_feedforward, self.d_model)
        self.norm1 = LayerNorm(self.d_model)
        self.norm2 = LayerNorm(self.d_model)
        self.activation = GELU()
        self.dropout = Dropout(self.p)
        self.dropout1 = Dropout(self.p)
        self.dropout2 = Dropout(self.p)
        self._reset_linears()

    def reset_parameters(self) -> None:
        """Each sub-layer's initialisation; the linears as PyTorch's."""
        super().reset_parameters()
        self._reset_linears()

    def _reset_linears(self) -> None:
        for lin in (self.linear1, self.linear2):
            k = 1.0 / math.sqrt(lin.n_inputs)
            lin._set_parameter("weight", np.random.uniform(-k, k, (lin.n_inputs, lin.n_outputs)))
            lin._set_parameter("bias", np.random.uniform(-k, k, lin.n_outputs))

    def _sa(self, x: Tensor, causal: bool) -> Tensor:
        out: Tensor = self.dropout1(self.self_attn(x, causal=causal))
        return out

    def _ff(self, x: Tensor) -> Tensor:
        hidden = self.dropout(self.activation(self.linear1(x)))
        out: Tensor = self.dropout2(self.linear2(hidden))
        return out

    def forward(self, src: Tensor, causal: bool | None = None) -> Tensor:
        """Return the block's output for ``src`` (B, T, d_model); ``causal`` overrides the
        layer's setting when given."""
        causal = self.causal if causal is None else causal
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, causal))
        out: Tensor = self.norm2(x + self._ff(x))
        return out

    @property
    def last_attention(self) -> Any:
        """The self-attention weights of the last forward, (B, heads, T, T)."""
        return self.self_attn.last_attention

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The keys of ``nn.TransformerEncoderLayer``: ``self_attn.*``, ``linear1.*``,
        ``linear2.*``, ``norm1.*``, ``norm2.*``."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in _PARTS:
            state.update(with_prefix(name + ".", getattr(self, name).torch_state_dict()))
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name in _PARTS:
            getattr(self, name)._load_torch_arrays(sub_state(arrays, name + "."))

    def extra_repr(self) -> str:
        return (
            f"{self.d_model}, nhead={self.nhead}, dim_feedforward={self.dim_feedforward}, "
            f"dropout={self.p}, norm_first={self.norm_first}, causal={self.causal}"
        )
