"""Sequence layers ``RNN`` and ``LSTM``: (B, T, F) -> all hidden states (B, T, H)."""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.autograd import Function
from engine.backend import get_array_module
from engine.errors import EngineError, ShapeError
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
from engine.nn.module import Layer
from engine.nn.recurrent import activation_layer
from engine.nn.torch_state import gate_order
from engine.ops import stack
from engine.ops.gemm import matmul
from engine.ops.kernel_call import working_dtype
from engine.tensor import Tensor

if TYPE_CHECKING:
    from engine.nn.lstm_embedded import EmbeddedLSTMFn

__all__ = ["LSTM", "RNN", "LSTMSequenceFn"]

Fold = Callable[[Tensor, Tensor], tuple[Tensor, Any] | None]


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


class _Recurrent(Layer):
    """Shared parameters of RNN and LSTM: ``weight_ih`` (F, G·H), ``weight_hh`` (H, G·H) and
    ``bias`` (G·H,) for G gates (1 for the RNN, 4 for the LSTM)."""

    n_inputs: int
    n_hidden: int
    gates: int
    weight_ih: Tensor
    weight_hh: Tensor
    bias: Tensor

    def reset_parameters(self) -> None:
        """Uniform in ``[-1/sqrt(H), 1/sqrt(H)]``, as PyTorch."""
        k = 1.0 / math.sqrt(self.n_hidden)
        width = self.gates * self.n_hidden
        self._set_parameter("weight_ih", np.random.uniform(-k, k, (self.n_inputs, width)))
        self._set_parameter("weight_hh", np.random.uniform(-k, k, (self.n_hidden, width)))
        self._set_parameter("bias", np.random.uniform(-k, k, width))


def _check_sequence(name: str, input: Tensor, n_inputs: int) -> None:
    if input.ndim != 3 or input.shape[2] != n_inputs:
        raise ShapeError(f"{name}: expected input (B, T, {n_inputs}), got shape {input.shape}")


class LSTM(_Recurrent):
    """An LSTM run over a whole sequence, returning every hidden state.

    Parameters
    ----------
    n_inputs : int
        Input features F.
    n_hidden : int
        Hidden size H.

    Shape
    -----
    Input (B, T, F); output (B, T, H), the hidden state after each step (starting from zeros).

    Notes
    -----
    ``weight_ih`` (F, 4H), ``weight_hh`` (H, 4H) and ``bias`` (4H,) hold the gate blocks in the
    order f, i, o, g (the book's xf/xi/xo/xc), initialised uniformly in
    ``[-1/sqrt(H), 1/sqrt(H)]`` as PyTorch. Each step is one matrix product of the weights
    with ``[h_{t-1}; x_t; 1]``::

        z_t = x_t @ weight_ih + bias + h_{t-1} @ weight_hh
        f, i, o = sigmoid(z_t[f]), sigmoid(z_t[i]), sigmoid(z_t[o]);  g = tanh(z_t[g])
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    The recurrence is one primitive (:class:`LSTMSequenceFn`) with a hand-written
    back-propagation through time; its gradient is checked against the book's ``LSTMCell``.
    When the input is an ``Embedding``'s output over a small vocabulary, the lookup is folded
    into a table of input projections (:mod:`engine.nn.lstm_embedded`, which says when).

    Examples
    --------
    >>> lstm = LSTM(3, 4)
    >>> lstm(Tensor(np.zeros((2, 5, 3)))).shape
    (2, 5, 4)
    """

    def __init__(self, n_inputs: int, n_hidden: int) -> None:
        super().__init__()
        self.n_inputs, self.n_hidden = int(n_inputs), int(n_hidden)
        self.gates = 4
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        """Return the hidden states (B, T, H) for the input sequence (B, T, F)."""
        _check_sequence("LSTM", input, self.n_inputs)
        folded_fn, embedded_source = _folding()
        source = embedded_source(input, self.weight_hh)
        if source is not None:  # an Embedding's output: one projection table instead
            table, ids = source
            return folded_fn.apply(table, self.weight_ih, self.bias, self.weight_hh, ids=ids)
        return LSTMSequenceFn.apply(input, self.weight_ih, self.bias, self.weight_hh)

    def run(self, input: Any, state: tuple[Any, Any] | None = None) -> tuple[Any, tuple[Any, Any]]:
        """Inference without a graph, carrying the state: return ``(hidden_states, (h, c))``.

        ``input`` is an array (B, T, F); ``state`` a pair of (B, H) arrays or None (zeros).
        Used to generate sequences one step at a time.
        """
        x = input.data if isinstance(input, Tensor) else input
        fn = LSTMSequenceFn(
            h0=None if state is None else state[0], c0=None if state is None else state[1]
        )
        out = fn.forward(x, self.weight_ih.data, self.bias.data, self.weight_hh.data)
        dtype = self.weight_hh.dtype
        return out, (fn.h_last.astype(dtype), fn.c_last.astype(dtype))

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.LSTM(n_inputs, n_hidden, batch_first=True)``: ``weight_ih_l0``
        (4H, F), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` (4H,) and ``bias_hh_l0`` (4H,), gate
        blocks in PyTorch's order (i, f, g, o). The engine has one bias: ``bias_hh_l0`` is zero
        (loading adds PyTorch's two biases)."""
        return OrderedDict(
            weight_ih_l0=gate_order(self.weight_ih.numpy().T),
            weight_hh_l0=gate_order(self.weight_hh.numpy().T),
            bias_ih_l0=gate_order(self.bias.numpy()),
            bias_hh_l0=np.zeros(4 * self.n_hidden, dtype=self.bias.numpy().dtype),
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self._set_parameter("weight_ih", gate_order(arrays["weight_ih_l0"]).T)
        self._set_parameter("weight_hh", gate_order(arrays["weight_hh_l0"]).T)
        self._set_parameter("bias", gate_order(arrays["bias_ih_l0"] + arrays["bias_hh_l0"]))


class RNN(_Recurrent):
    """An Elman RNN run over a whole sequence, returning every hidden state.

    Parameters
    ----------
    n_inputs : int
        Input features F.
    n_hidden : int
        Hidden size H.
    activation : {'tanh', 'sigmoid', 'relu'}
        Non-linearity.

    Shape
    -----
    Input (B, T, F); output (B, T, H).

    Notes
    -----
    ``h_t = act(x_t @ weight_ih + bias + h_{t-1} @ weight_hh)`` with ``h_0 = 0``; the input
    projection of all steps is one product. Initialisation uniform in ``[-1/sqrt(H),
    1/sqrt(H)]``. Built from differentiable primitives (the step-through debugger sees every
    step).

    Examples
    --------
    >>> RNN(3, 4)(Tensor(np.zeros((2, 5, 3)))).shape
    (2, 5, 4)
    """

    def __init__(self, n_inputs: int, n_hidden: int, activation: str = "tanh") -> None:
        super().__init__()
        self.activation = activation_layer(activation)
        self.activation_name = activation
        self.n_inputs, self.n_hidden = int(n_inputs), int(n_hidden)
        self.gates = 1
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        """Return the hidden states (B, T, H) for the input sequence (B, T, F)."""
        _check_sequence("RNN", input, self.n_inputs)
        batch, steps, _ = input.shape
        flat = input.reshape(batch * steps, self.n_inputs).mm(self.weight_ih) + self.bias
        xproj = flat.reshape(batch, steps, self.n_hidden)
        states = []
        h = None
        for t in range(input.shape[1]):
            z = xproj[:, t] if h is None else xproj[:, t] + h.mm(self.weight_hh)
            h = self.activation.forward(z)
            states.append(h)
        return stack(states, dim=1)

    def extra_repr(self) -> str:
        return f"{self.n_inputs}, {self.n_hidden}, activation={self.activation_name!r}"

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The state of ``nn.RNN(n_inputs, n_hidden, nonlinearity=activation,
        batch_first=True)``: ``weight_ih_l0`` (H, F), ``weight_hh_l0`` (H, H), ``bias_ih_l0``
        and ``bias_hh_l0`` (H,; zero, the engine has one bias; loading adds the two).

        ``nn.RNN`` has no sigmoid: a sigmoid RNN's counterpart is the loop the PyTorch export
        writes (``SigmoidRNN``), with keys ``input.weight`` (H, F), ``input.bias`` (H,) and
        ``hidden.weight`` (H, H).
        """
        w_ih, w_hh, bias = self.weight_ih.numpy(), self.weight_hh.numpy(), self.bias.numpy()
        if self.activation_name == "sigmoid":
            return OrderedDict(
                [
                    ("input.weight", w_ih.T.copy()),
                    ("input.bias", bias),
                    ("hidden.weight", w_hh.T.copy()),
                ]
            )
        if self.activation_name not in ("tanh", "relu"):
            raise EngineError(
                f"RNN(activation={self.activation_name!r}) has no PyTorch counterpart"
            )
        return OrderedDict(
            weight_ih_l0=w_ih.T.copy(),
            weight_hh_l0=w_hh.T.copy(),
            bias_ih_l0=bias,
            bias_hh_l0=np.zeros_like(bias),
        )

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        if self.activation_name == "sigmoid":
            w_ih, w_hh, bias = arrays["input.weight"], arrays["hidden.weight"], arrays["input.bias"]
        else:
            w_ih, w_hh = arrays["weight_ih_l0"], arrays["weight_hh_l0"]
            bias = arrays["bias_ih_l0"] + arrays["bias_hh_l0"]
        self._set_parameter("weight_ih", w_ih.T)
        self._set_parameter("weight_hh", w_hh.T)
        self._set_parameter("bias", bias)


@functools.cache
def _folding() -> tuple[type[EmbeddedLSTMFn], Fold]:
    """The folded LSTM's function and its test (:mod:`engine.nn.lstm_embedded`, which imports
    this module, so it cannot be imported at the top); cached, so a forward pass runs no
    import statement."""
    from engine.nn.lstm_embedded import EmbeddedLSTMFn, embedded_source

    return EmbeddedLSTMFn, embedded_source
