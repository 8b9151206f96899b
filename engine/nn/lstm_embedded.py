"""An ``Embedding`` feeding an ``LSTM``, folded into one lookup table of input projections.

When the LSTM's input is a row lookup ``x = E[ids]`` (what ``Embedding`` returns), each step's
input part of the pre-activations, ``x_t @ weight_ih + bias``, is a row of one table
``P = E @ weight_ih + bias`` (V, 4H) picked by the step's tokens. :class:`LSTMSequenceFn` does
that part inside each step's product, and backward inside the weight-gradient product and the
input-gradient product: 3·B·T·F·4H multiply-adds in all. The fold does them as one (V, F) x
(F, 4H) product, a gather inside each step's kernel and, backward, column sums by token
(:func:`engine.kernels.recurrent.scatter_columns`) and two (V, ·) products. On
``benchmarks/bench_train.py``'s ``lstm_char`` (V 64, F 64, H 256, B·T 800) the step loses about
a fifth of its multiply-adds.

The column sums and the gather cost time per token whatever F is, and the gather slows once the
table outgrows the cache: on one core with H 256 and B·T 800 the fold broke even at V 64 for
F 16, V 200 for F 32 and V 400 for F 64. So it is used when F >= 32 and V <= B·T / 4, for an
untagged lookup (``Tensor.index_select``, which ``Embedding`` calls) of a 2-d NumPy float32 or
float64 table that needs a gradient, recorded with gradients on, whose output still equals
``table[ids]`` when the LSTM runs (checked: an in-place change to the table or the ids in
between keeps the plain path).

The folded op takes the table ``E`` itself as its input, so the LSTM's gradient reaches ``E``
directly and not through the lookup's output ``x``: ``x.grad`` holds only the gradient of
``x``'s other uses (None when there are none); ``E``'s gradient is complete. The editor shows
every node's output gradient, so tensors made inside :func:`engine.tagging` (every tensor of
the editor's graphs) never fold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import kernels
from engine.nn.lstm_sequence_fn import LSTMSequenceFn
from engine.nn.lstm_steps import (
    StepSums,
    batch_parts,
    forward_steps,
    from_parts,
    step_weight,
)
from engine.ops.gemm import matmul
from engine.ops.indexing import IndexSelect
from engine.tensor import Tensor

__all__ = ["EmbeddedLSTMFn", "embedded_source"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
#: The fewest features per token for which the fold paid (see the module's notes).
MIN_FEATURES = 32


def embedded_source(input: Tensor, weight: Tensor) -> tuple[Tensor, Any] | None:
    """The table and token ids (B, T) when ``input`` (B, T, F) is a lookup the LSTM of
    ``weight``'s dtype should fold (the conditions in the module's notes); else None."""
    fn = input._fn
    if type(fn) is not IndexSelect or input.tag is not None or not input.creators:
        return None
    table = input.creators[0]
    data, ids = table.data, fn.idx
    if (
        type(data) is not np.ndarray
        or data.ndim != 2
        or data.dtype not in _FLOATS
        or data.dtype != weight.dtype
        or data.shape[1] < MIN_FEATURES
        or ids.ndim != 2
        or 4 * data.shape[0] > ids.size
        or not np.array_equal(input.data, data[ids])
    ):
        return None
    return table, ids


class EmbeddedLSTMFn(LSTMSequenceFn):
    """:class:`LSTMSequenceFn` on the lookup ``table[ids]`` without forming it.

    Inputs: ``table`` (V, F), ``w_ih`` (F, 4H), ``b`` (4H,), ``w_hh`` (H, 4H); parameter
    ``ids`` (B, T), integers of any integer type in ``[-V, V)``. Output: the hidden states
    (B, T, H), equal to ``LSTMSequenceFn`` on ``table[ids]`` up to rounding.
    """

    op_name = "lstm"
    ids: Any

    def forward(self, table: Any, w_ih: Any, b: Any, w_hh: Any) -> Any:
        """Run the recurrence with each step's input part gathered from the projection table."""
        vocab = table.shape[0]
        batch, steps = self.ids.shape
        n = w_hh.shape[0]
        dtype = w_hh.dtype
        parts = batch_parts(np, batch)
        rows = batch // parts
        # each part's tokens step by step (P, T, b), negative ids wrapped as the lookup wraps them
        tokens = np.remainder(self.ids.astype(np.intp), vocab).reshape(parts, rows, steps)
        tokens = np.ascontiguousarray(tokens.transpose(0, 2, 1))
        weights = step_weight(np, w_ih, b, w_hh, dtype)  # [w_hh.T, w_ih.T, b], g rows doubled
        w_step = weights[:, :n]  # (4H, H)
        proj_t = matmul(weights[:, n:-1], table.T)  # (4H, V): each token's input part
        proj_t += weights[:, -1:]
        hs = np.empty((parts, steps + 1, n, rows), dtype=dtype)
        hs[:, 0] = 0
        acts = np.empty((parts, steps, 4 * n, rows), dtype=dtype)
        cs = np.empty((parts, steps + 1, n, rows), dtype=dtype)
        tanh_c = np.empty((parts, steps, n, rows), dtype=dtype)
        cs[:, 0] = 0
        hidden = forward_steps(np, w_step, hs, acts, cs, tanh_c, n, (proj_t, tokens))
        self.acts, self.hs, self.cs, self.tanh_c = acts, hs, cs, tanh_c
        # the table as it is now (small: V < B·T rows): backward must not see later changes
        self.table, self.w_ih, self.w_hh, self.tokens = table.copy(), w_ih, w_hh, tokens
        self.h_last = from_parts(hs[:, steps:])[:, 0]
        self.c_last = from_parts(cs[:, steps:])[:, 0]
        return hidden

    def _gradient_shares(
        self, xp: Any, dz: Any
    ) -> tuple[Callable[[int], None], Callable[[], tuple[Any, Any, Any, Any]]]:
        """As :meth:`LSTMSequenceFn._gradient_shares`, for the table, w_ih, b and w_hh: each
        part's input parts summed by token and its share of w_hh's gradient, then the
        table's and w_ih's gradients from the token sums."""
        parts, steps = dz.shape[:2]
        vocab = self.table.shape[0]
        by_token: list[Any] = [None] * parts if any(self.needs[:3]) else []
        # the first step's state is zero: its terms of w_hh's gradient are left out
        sums = StepSums(np, self.hs[:, 1:steps], dz[:, 1:]) if self.needs[3] else None

        def share(p: int) -> None:
            if by_token:
                by_token[p] = kernels.recurrent.scatter_columns(dz[p], self.tokens[p], vocab)
            if sums is not None:
                sums.add(p)

        def combine() -> tuple[Any, Any, Any, Any]:
            d_table = dw_ih = db = dw_hh = None
            if by_token:
                d_proj = by_token[0]  # (4H, V)
                for more in by_token[1:]:
                    d_proj += more
                if self.needs[0]:
                    d_table = matmul(d_proj.T, self.w_ih.T)
                if self.needs[1]:
                    dw_ih = matmul(self.table.T, d_proj.T)
                if self.needs[2]:
                    db = d_proj.sum(axis=1)
            if sums is not None:
                dw_hh = sums.total()
            return d_table, dw_ih, db, dw_hh

        return share, combine
