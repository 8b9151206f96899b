"""Multi-head scaled dot-product attention as one primitive.

Composed of ops, attention took a slice, a reshape and a permute per head tensor, a scaling, a
masked softmax and a second product, each with its own temporaries and backward (the slices'
backward zero-filled the whole (B, T, 3E) projection three times). :class:`Attention` does the
same arithmetic on views of its input and writes the query, key and value gradients into one
array: ``softmax(q k^T / sqrt(D) + mask) v`` per head, the mask ``-inf`` above the diagonal when
``causal``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine import kernels
from engine.backend import get_array_module
from engine.ops.function import Function
from engine.ops.kernel_call import working_dtype
from engine.ops.parallel import MIN_ELEMENTS, for_rows, row_safe, splits

__all__ = ["Attention", "causal_mask"]


def causal_mask(xp: Any, steps: int, source: int | None = None) -> Any:
    """A (steps, source) boolean array, True above the diagonal: the future a step may not see."""
    source = steps if source is None else source
    return xp.triu(xp.ones((steps, source), dtype=bool), 1)


class Attention(Function):
    """``softmax(q k^T / sqrt(D) (+ causal mask)) v`` for ``heads`` heads of size
    ``D = E / heads``.

    Inputs are either one packed (B, T, 3E) tensor (query, key and value blocks in that order:
    self-attention, ``packed=True``) or three tensors q (B, T, E), k (B, S, E), v (B, S, E).
    The output is (B, T, E) with the heads side by side, as before the output projection;
    ``self.weights`` keeps the (B, heads, T, S) attention weights (also handed to
    ``on_weights`` when given, recorded or not). With ``causal`` step t sees
    sources 0..t only (``causal_mask``); no row is then masked everywhere. ``dropout`` > 0
    zeroes weights with that probability (and scales the rest by ``1 / (1 - dropout)``) before
    the product with v, drawing from the array module's global random state as ``dropout``.
    """

    float_only = True
    op_name = "attention"
    heads: int
    causal: bool = False
    packed: bool = False
    dropout: float = 0.0
    on_weights: Any = None

    def _split(self, xp: Any, arrays: tuple[Any, ...]) -> tuple[Any, Any, Any]:
        """New C-contiguous (B, heads, T, D) arrays of the query (times the scale), key and
        value (BLAS reads them faster than strided views; the query is scaled in place), in the
        dtype the work is done in (float16 in float32 on the CPU, as the softmax kernels)."""
        work = working_dtype(arrays[0].dtype) if xp is np else arrays[0].dtype
        if self.packed:
            (qkv,) = arrays
            batch, steps, width = qkv.shape
            d = width // 3 // self.heads
            split = qkv.reshape(batch, steps, 3, self.heads, d).transpose(2, 0, 3, 1, 4)
            split = split.astype(work, order="C")
            q, k, v = split[0], split[1], split[2]
        else:
            q, k, v = (self._heads(a).astype(work, order="C") for a in arrays)
        self.scale = 1.0 / math.sqrt(q.shape[-1])
        q *= self.scale
        return q, k, v

    def _heads(self, a: Any) -> Any:
        """(B, T, H * D) -> a (B, H, T, D) view."""
        batch, steps, e = a.shape
        return a.reshape(batch, steps, self.heads, e // self.heads).transpose(0, 2, 1, 3)

    def forward(self, *arrays: Any) -> Any:
        xp = get_array_module(arrays[0])
        self.dtype = arrays[0].dtype
        q, k, v = self.q, self.k, self.v = self._split(xp, arrays)
        batch, heads, steps = q.shape[:3]
        source = k.shape[2]
        w = xp.empty((batch, heads, steps, source), dtype=q.dtype)  # the softmax, in place
        out = xp.empty_like(q)
        split = self._splits(w)
        softmax = self._softmax(xp, steps, source, q.dtype)
        last = self.dropout <= 0  # the product with v in the same pass when there is no dropout

        def scores(lo: int, hi: int) -> None:
            wb = w[lo:hi]
            xp.matmul(q[lo:hi], k[lo:hi].transpose(0, 1, 3, 2), out=wb)
            softmax(wb)
            if last:
                xp.matmul(wb, v[lo:hi], out=out[lo:hi])

        self._run(scores, batch, split)
        self.weights = w
        if self.on_weights is not None:
            self.on_weights(w)
        if self.dropout > 0:
            keep = xp.random.random_sample(w.shape) >= self.dropout
            self.mask = keep.astype(w.dtype) * (1.0 / (1.0 - self.dropout))
            w = w * self.mask
            dropped = w

            def product(lo: int, hi: int) -> None:
                xp.matmul(dropped[lo:hi], v[lo:hi], out=out[lo:hi])

            self._run(product, batch, split)
        self.dropped = w
        return self._merge(out).astype(self.dtype, copy=False)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        q, k, v, w = self.q, self.k, self.v, self.weights
        batch, heads, steps, d = q.shape
        if self.packed:  # the gradients of the query, key and value blocks, as the input
            out = xp.empty((3, batch, heads, steps, d), dtype=q.dtype)
            dq, dk, dv = out[0], out[1], out[2]
        else:
            dq, dk, dv = xp.empty_like(q), xp.empty_like(k), xp.empty_like(v)
        g_heads = self._heads(grad)
        through = self._softmax_backward(xp, steps)

        def block(lo: int, hi: int) -> None:
            g = g_heads[lo:hi].astype(q.dtype, order="C")  # (b, H, T, D)
            dw = g @ v[lo:hi].transpose(0, 1, 3, 2)  # (b, H, T, S): through the softmax in place
            if self.dropout > 0:
                dw *= self.mask[lo:hi]
            through(w[lo:hi], dw)
            xp.matmul(dw, k[lo:hi], out=dq[lo:hi])
            dq[lo:hi] *= self.scale
            xp.matmul(dw.transpose(0, 1, 3, 2), q[lo:hi], out=dk[lo:hi])  # q holds the scale
            xp.matmul(self.dropped[lo:hi].transpose(0, 1, 3, 2), g, out=dv[lo:hi])

        self._run(block, batch, self._splits(w))
        if self.packed:
            dqkv = out.transpose(1, 3, 0, 2, 4).reshape(batch, steps, 3 * heads * d)
            return (dqkv.astype(self.dtype, copy=False),)
        return tuple(self._merge(a).astype(self.dtype, copy=False) for a in (dq, dk, dv))

    def _softmax(self, xp: Any, steps: int, source: int, dtype: Any) -> Callable[[Any], None]:
        """The softmax over the last axis of a (b, H, T, S) block of scores, in place (with the
        causal mask when ``causal``): the row kernel on the CPU, array operations on CuPy."""
        causal = self.causal
        if xp is np:

            def rows(wb: Any) -> None:
                kernels.softmax.softmax_forward(wb.reshape(-1, source), steps, causal)

            return rows
        add_mask = None
        if causal:
            add_mask = xp.where(causal_mask(xp, steps, source), -xp.inf, 0.0).astype(dtype)

        def array_ops(wb: Any) -> None:
            if add_mask is not None:
                wb += add_mask
            wb -= wb.max(axis=-1, keepdims=True)
            xp.exp(wb, out=wb)
            wb /= wb.sum(axis=-1, keepdims=True)

        return array_ops

    def _softmax_backward(self, xp: Any, steps: int) -> Callable[[Any, Any], None]:
        """``dw = w (dw - sum(w dw))`` over the last axis of a (b, H, T, S) block of weights
        ``w`` and their gradient ``dw``, in place on ``dw`` (the kernel on the CPU)."""
        if xp is np:
            causal = self.causal

            def rows(wb: Any, dw: Any) -> None:
                source = wb.shape[-1]
                kernels.softmax.softmax_backward(
                    wb.reshape(-1, source), dw.reshape(-1, source), steps, causal
                )

            return rows

        def array_ops(wb: Any, dw: Any) -> None:
            dw -= xp.einsum("...s,...s->...", dw, wb)[..., None]
            dw *= wb

        return array_ops

    @staticmethod
    def _splits(w: Any) -> bool:
        """Whether the work on weights like ``w`` is split over threads by batch blocks."""
        return splits(w.size) and row_safe(w)

    @staticmethod
    def _run(body: Any, batch: int, split: bool) -> None:
        """``body`` over the whole batch, in batch blocks on several threads when ``split``."""
        if split:
            for_rows(body, batch, MIN_ELEMENTS)
        else:
            body(0, batch)

    @staticmethod
    def _merge(a: Any) -> Any:
        """(B, H, T, D) -> (B, T, H * D)."""
        batch, heads, steps, d = a.shape
        return a.transpose(0, 2, 1, 3).reshape(batch, steps, heads * d)
