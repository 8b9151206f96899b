"""The LSTM layer over a whole sequence as one autograd primitive: :class:`LSTMSequenceFn`
(the recurrence's steps are :mod:`engine.nn.lstm_steps`; :class:`engine.nn.sequence.LSTM` is
the layer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.autograd import Function
from engine.backend import get_array_module
from engine.nn.lstm_steps import (
    StepSums,
    backward_steps,
    batch_parts,
    by_gate,
    forward_steps,
    from_parts,
    in_parts,
    step_weight,
)
from engine.ops.gemm import matmul
from engine.ops.kernel_call import working_dtype

__all__ = ["LSTMSequenceFn"]


class LSTMSequenceFn(Function):
    """The LSTM layer over all time steps as one primitive (back-propagation through time).

    Inputs: ``x`` (B, T, F), ``w_ih`` (F, 4H), ``b`` (4H,), ``w_hh`` (H, 4H); gate blocks in
    the order f, i, o, g. Output: the hidden states (B, T, H). Optional parameters
    ``h0``/``c0`` ((B, H) arrays, not differentiated) give the initial state; the final state
    is kept in ``h_last``/``c_last``.

    Notes
    -----
    Inside, everything is gate-major and time-major: the pre-activations of step t are a
    (4H, B) block, so each gate is one contiguous (H, B) array for the element-wise work. Each
    step is one matrix product, ``[w_hh.T, w_ih.T, b] @ [h_{t-1}; x_t; 1]``, written straight
    into the step's block; the cell writes ``h_t`` into the next step's product input. The
    three weight gradients are then one product too. With a zero initial state, the first
    step's recurrent part is skipped.

    On a CPU with 512-bit vectors the step weight is packed once per sequence and one compiled
    call runs every step (:func:`engine.nn.lstm_steps.forward_steps`); in the split mode the
    batch is cut into parts that run at once, one per thread
    (:func:`engine.nn.lstm_steps.batch_parts`), so every array here has a leading part axis
    (P, ..., B/P). Elsewhere (a GPU, or AVX2) each step is a BLAS call and a cell kernel.
    """

    op_name = "lstm"
    h0: Any = None
    c0: Any = None

    def forward(self, x: Any, w_ih: Any, b: Any, w_hh: Any) -> Any:
        """Run the recurrence, keeping the gate activations and states for backward."""
        xp = get_array_module(x)
        batch, steps, n_in = x.shape
        n = w_hh.shape[0]
        # the CPU's kernels compute float16 in float32
        dtype = working_dtype(w_hh.dtype) if xp is np else w_hh.dtype
        parts = batch_parts(xp, batch)
        rows = batch // parts
        w_cat = step_weight(xp, w_ih, b, w_hh, dtype)
        # per part and step [h_{t-1}; x_t; 1]
        inp = xp.empty((parts, steps + 1, n + n_in + 1, rows), dtype=dtype)
        inp[:, 0, :n] = 0 if self.h0 is None else in_parts(self.h0[:, None], parts)[:, 0]
        inp[:, :steps, n : n + n_in] = in_parts(x, parts)
        inp[:, steps, n:] = 0  # no x after the last step; only h_T is read from this slab
        inp[:, :steps, n + n_in] = 1
        acts = xp.empty((parts, steps, 4 * n, rows), dtype=dtype)  # becomes the activations
        cs = xp.empty((parts, steps + 1, n, rows), dtype=dtype)
        tanh_c = xp.empty((parts, steps, n, rows), dtype=dtype)
        cs[:, 0] = 0 if self.c0 is None else in_parts(self.c0[:, None], parts)[:, 0]
        k0 = n if self.h0 is None else 0
        hidden = forward_steps(xp, w_cat, inp, acts, cs, tanh_c, k0, dtype=w_hh.dtype)
        self.acts, self.inp, self.cs, self.tanh_c = acts, inp, cs, tanh_c
        self.w_ih, self.w_hh = w_ih, w_hh
        self.h_last = from_parts(inp[:, steps:, :n])[:, 0]
        self.c_last = from_parts(cs[:, steps:])[:, 0]
        return hidden

    def backward(self, grad: Any) -> tuple[Any, Any, Any, Any]:
        """Back-propagate through time, newest step first, the batch parts at once; each
        part's share of the weight gradients is summed on its thread right after its steps."""
        xp = get_array_module(grad)
        parts, steps, four_h, rows = self.acts.shape
        dtype = self.acts.dtype
        d_hs = in_parts(grad, parts)  # (P, T, H, b), copied part by part
        dz = xp.empty((parts, steps, four_h, rows), dtype=dtype)
        share, combine = self._gradient_shares(xp, dz)
        states = (self.acts, self.cs, self.tanh_c)
        backward_steps(xp, self.w_hh, *states, d_hs, dz, self.h0 is not None, share)
        return combine()

    def _gradient_shares(
        self, xp: Any, dz: Any
    ) -> tuple[Callable[[int], None], Callable[[], tuple[Any, Any, Any, Any]]]:
        """From the pre-activation gradients ``dz`` (P, T, 4H, b) as they are filled in: the
        work of one batch part (run when its steps are done) and the gradients of x, w_ih,
        b and w_hh (once every part's are)."""
        parts, steps, _, rows = dz.shape
        n = self.w_hh.shape[0]
        # (H+F+1, 4H): rows w_hh, then w_ih, then the bias
        sums = StepSums(xp, self.inp[:, :steps], dz) if any(self.needs[1:]) else None

        def share(p: int) -> None:
            if sums is not None:
                sums.add(p)

        def combine() -> tuple[Any, Any, Any, Any]:
            dx = dw_ih = db = dw_hh = None
            if self.needs[0]:
                dx = matmul(self.w_ih, by_gate(dz))
                dx = dx.reshape(-1, steps, parts * rows).transpose(2, 1, 0)
            if sums is not None:
                dw_cat = sums.total()
                dw_hh, dw_ih, db = dw_cat[:n], dw_cat[n:-1], dw_cat[-1]
            return dx, dw_ih, db, dw_hh

        return share, combine
