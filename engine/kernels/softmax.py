"""Softmax kernels: the attention softmax (each row's scores to weights in one pass, and
back) and softmax cross-entropy (each row's loss and probabilities in one pass).

Rows are those of a 2-d C-contiguous array (B * heads * T, S) of scores, row ``r`` belonging to
query step ``r % steps``. With ``causal`` step ``t`` sees sources ``0..t`` only: its row is
``softmax(scores[:t + 1])`` followed by zeros (what adding ``-inf`` above the diagonal gives,
without computing the ``exp`` of the masked part).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.kernels.compiler import kernel
from engine.kernels.lanes import row_dot, row_max, row_sum
from engine.kernels.vmath import exp

__all__ = [
    "cross_entropy_backward",
    "cross_entropy_forward",
    "softmax_backward",
    "softmax_forward",
    "warm_up",
]


@kernel
def softmax_forward(w: Any, steps: int, causal: bool) -> None:
    """Replace each row of scores ``w`` by its softmax (causal: over the visible part)."""
    rows, s = w.shape
    zero = w.dtype.type(0.0)
    for r in range(rows if s else 0):
        row = w[r]
        n = min(r % steps + 1, s) if causal else s
        # the exp runs on whole vectors: up to 7 columns past n, zeroed before the sum
        wide = min((n + 7) // 8 * 8, s)
        m = row_max(row, n)
        for j in range(wide):
            row[j] = exp(row[j] - m)
        for j in range(n, s):
            row[j] = zero
        inv = w.dtype.type(1.0) / row_sum(row, wide)
        for j in range(wide):
            row[j] *= inv


@kernel
def softmax_backward(w: Any, dw: Any, steps: int, causal: bool) -> None:
    """Replace each row of ``dw`` (the gradient of the weights ``w``) by the gradient of the
    scores, ``w (dw - sum(w dw))`` (causal: zero past the visible part)."""
    rows, s = w.shape
    zero = w.dtype.type(0.0)
    for r in range(rows):
        row, grad = w[r], dw[r]
        n = min(r % steps + 1, s) if causal else s
        d = row_dot(row, grad, n)
        for j in range(n):
            grad[j] = row[j] * (grad[j] - d)
        for j in range(n, s):
            grad[j] = zero


@kernel
def cross_entropy_forward(x: Any, targets: Any, p: Any, losses: Any) -> None:
    """For each row of logits ``x``: its softmax into ``p`` and ``-log softmax(x)[target]``,
    ``log(sum(exp(x - max))) + max - x[target]``, into ``losses[r]``."""
    rows, c = x.shape
    one = x.dtype.type(1.0)
    for r in range(rows if c else 0):
        row, q = x[r], p[r]
        m = row_max(row, c)
        for j in range(c):
            q[j] = exp(row[j] - m)
        total = row_sum(q, c)
        inv = one / total
        for j in range(c):
            q[j] *= inv
        losses[r] = np.log(total) + m - row[targets[r]]


@kernel
def cross_entropy_backward(p: Any, targets: Any, scale: Any, g: Any) -> None:
    """``g = (p - onehot(target)) * scale`` for each row of probabilities ``p``."""
    rows, c = p.shape
    s = p.dtype.type(scale)
    for r in range(rows):
        q, d = p[r], g[r]
        for j in range(c):
            d[j] = q[j] * s
        d[targets[r]] -= s


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        w = np.zeros((4, 3), dtype)
        for causal in (False, True):
            softmax_forward(w, 2, causal)
            softmax_backward(w, np.zeros_like(w), 2, causal)
        targets, losses = np.zeros(4, np.int64), np.empty(4, dtype)
        cross_entropy_forward(w, targets, w.copy(), losses)
        cross_entropy_backward(w, targets, 1.0, w.copy())
