"""``MultiHeadAttention`` and the learned ``PositionalEmbedding`` of transformer models."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from engine.errors import EngineError, ShapeError
from engine.nn.linear import Linear
from engine.nn.module import Layer
from engine.nn.torch_state import sub_state, with_prefix
from engine.ops.attention import Attention, causal_mask
from engine.tensor import Tensor

__all__ = ["MultiHeadAttention", "PositionalEmbedding", "causal_mask"]


class MultiHeadAttention(Layer):
    """Scaled dot-product attention with ``num_heads`` heads, as ``torch.nn.MultiheadAttention``
    with ``batch_first=True``.

    Parameters
    ----------
    embed_dim : int
        Size E of each token's vector; a multiple of ``num_heads``.
    num_heads : int
        Number of heads; each sees ``E // num_heads`` dimensions.
    bias : bool
        Learned biases on the input and output projections.
    dropout : float
        Dropout on the attention weights while training.

    Attributes
    ----------
    last_attention : array or None
        The attention weights of the last forward, (B, heads, T, S), before dropout.

    Notes
    -----
    ``in_proj_weight`` (E, 3E) maps a token to its query, key and value (blocks in that
    order), ``in_proj_bias`` (3E,) shifts them, and ``out_proj`` (a Linear E -> E) mixes the
    heads' outputs. Initialised as PyTorch: Xavier-uniform input projection, zero biases.

    Examples
    --------
    >>> mha = MultiHeadAttention(8, 2)
    >>> mha(Tensor(np.zeros((3, 5, 8))), causal=True).shape
    (3, 5, 8)
    >>> mha.last_attention.shape
    (3, 2, 5, 5)
    """

    in_proj_weight: Tensor
    in_proj_bias: Tensor

    def __init__(
        self, embed_dim: int, num_heads: int, bias: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        if self.num_heads < 1 or self.embed_dim < 1 or self.embed_dim % self.num_heads:
            raise EngineError(
                f"MultiHeadAttention: embed_dim {embed_dim} is not divisible by {num_heads} heads"
            )
        if not 0.0 <= dropout < 1.0:
            raise EngineError(f"MultiHeadAttention: dropout must be in [0, 1), got {dropout}")
        self.use_bias, self.dropout = bool(bias), float(dropout)
        self.head_dim = self.embed_dim // self.num_heads
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=self.use_bias)
        self.last_attention: Any = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform ``in_proj_weight``, PyTorch's Linear init for ``out_proj``, zero
        biases."""
        e = self.embed_dim
        bound = math.sqrt(6.0 / (e + 3 * e))
        self._set_parameter("in_proj_weight", np.random.uniform(-bound, bound, (e, 3 * e)))
        k = 1.0 / math.sqrt(e)
        self.out_proj._set_parameter("weight", np.random.uniform(-k, k, (e, e)))
        if self.use_bias:
            self._set_parameter("in_proj_bias", np.zeros(3 * e))
            self.out_proj._set_parameter("bias", np.zeros(e))

    def _project(self, x: Tensor, block: slice) -> Tensor:
        """``x @ W[:, block] (+ b[block])`` on the last axis of (B, T, E)."""
        batch, steps, _ = x.shape
        whole = block == slice(None)
        w = self.in_proj_weight if whole else self.in_proj_weight[:, block]
        out = x.reshape(batch * steps, self.embed_dim).mm(w)
        if self.use_bias:
            out = out + (self.in_proj_bias if whole else self.in_proj_bias[block])
        return out.reshape(batch, steps, -1)

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        causal: bool = False,
    ) -> Tensor:
        """Attend from ``query`` (B, T, E) to ``key``/``value`` (B, S, E) (``query`` itself
        when None); ``causal`` hides later positions. Returns (B, T, E)."""
        e = self.embed_dim
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t is not None and (t.ndim != 3 or t.shape[2] != e):
                raise ShapeError(
                    f"MultiHeadAttention: expected {name} (B, T, {e}), got shape {t.shape}"
                )
        result: Tensor = self.out_proj(self._fused(query, key, value, causal))
        return result

    def _fused(
        self, query: Tensor, key: Tensor | None, value: Tensor | None, causal: bool
    ) -> Tensor:
        """The heads' outputs (B, T, E), by the one primitive :class:`Attention`."""
        params = {
            "heads": self.num_heads,
            "causal": causal,
            "dropout": self.dropout if self.training else 0.0,
            "on_weights": self._keep,
        }
        if key is None and value is None:
            return Attention.apply(self._project(query, slice(None)), packed=True, **params)
        e = self.embed_dim
        key = query if key is None else key
        value = key if value is None else value
        q = self._project(query, slice(0, e))
        k = self._project(key, slice(e, 2 * e))
        v = self._project(value, slice(2 * e, 3 * e))
        return Attention.apply(q, k, v, **params)

    def _keep(self, weights: Any) -> None:
        self.last_attention = weights

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """``nn.MultiheadAttention``'s keys: in_proj_weight (3E, E), in_proj_bias (3E,),
        out_proj.weight (E, E), out_proj.bias (E,) (the biases only with ``bias``)."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        state["in_proj_weight"] = np.ascontiguousarray(self.in_proj_weight.numpy().T)
        if self.use_bias:
            state["in_proj_bias"] = self.in_proj_bias.numpy()
        state.update(with_prefix("out_proj.", self.out_proj.torch_state_dict()))
        return state

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("in_proj_weight", arrays["in_proj_weight"].T)
        if self.use_bias:
            self._set_parameter("in_proj_bias", arrays["in_proj_bias"])
        self.out_proj._load_torch_arrays(sub_state(arrays, "out_proj."))

    def extra_repr(self) -> str:
        return (
            f"{self.embed_dim}, num_heads={self.num_heads}, bias={self.use_bias}, "
            f"dropout={self.dropout}"
        )


class PositionalEmbedding(Layer):
    """A learned vector per position, added to the input: (B, T, dim) -> (B, T, dim).

    Parameters
    ----------
    max_len : int
        The longest sequence it accepts.
    dim : int
        The vector size (the input's last axis).

    Notes
    -----
    ``weight`` (max_len, dim) starts normal with standard deviation 0.02; position t of every
    sample gets ``weight[t]`` added. Its PyTorch counterpart (exported scripts define it) holds
    the same ``weight`` key.

    Examples
    --------
    >>> PositionalEmbedding(10, 4)(Tensor(np.zeros((2, 6, 4)))).shape
    (2, 6, 4)
    """

    weight: Tensor

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.max_len, self.dim = int(max_len), int(dim)
        if min(self.max_len, self.dim) < 1:
            raise EngineError(f"PositionalEmbedding: sizes must be positive ({self.extra_repr()})")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Normal with standard deviation 0.02."""
        self._set_parameter("weight", np.random.randn(self.max_len, self.dim) * 0.02)

    def forward(self, input: Tensor) -> Tensor:
        """Return ``input + weight[:T]``."""
        if input.ndim != 3 or input.shape[2] != self.dim or input.shape[1] > self.max_len:
            raise ShapeError(
                f"PositionalEmbedding({self.max_len}, {self.dim}): expected input (B, T, "
                f"{self.dim}) with T <= {self.max_len}, got shape {input.shape}"
            )
        steps = input.shape[1]
        pos = self.weight if steps == self.max_len else self.weight[:steps]
        return input + pos

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """One key, ``weight`` (max_len, dim)."""
        return OrderedDict(weight=self.weight.numpy())

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight", arrays["weight"])

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.dim}"
