"""Finite-difference gradient checking, the engine's main correctness test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.autograd import no_grad
from engine.backend import get_array_module, to_numpy
from engine.tensor import Tensor

__all__ = ["gradcheck"]


def _objective(fn: Callable[..., Tensor], inputs: Sequence[Tensor], weights: Any) -> float:
    """Evaluate ``sum(fn(*inputs) * weights)`` without recording a graph."""
    with no_grad():
        out = fn(*inputs)
    return float((out.data * weights).sum())


def _numeric_grad(
    fn: Callable[..., Tensor], inputs: Sequence[Tensor], x: Tensor, weights: Any, eps: float
) -> np.ndarray:
    """Central differences of the weighted objective with respect to each element of ``x``.

    ``x.data`` is perturbed in place, element by element, and never replaced: it may be a view
    the layer relies on (the book's ``LSTMCell`` fuses its gate weights that way).
    """
    data = x.data
    grad = np.zeros(data.shape, dtype=np.float64)
    for index in np.ndindex(*data.shape):
        orig = data[index].item()
        data[index] = orig + eps
        plus = _objective(fn, inputs, weights)
        data[index] = orig - eps
        minus = _objective(fn, inputs, weights)
        data[index] = orig
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Compare the gradients of ``fn`` computed by backward with central finite differences.

    The scalar checked is ``sum(fn(*inputs) * w)`` for a fixed random ``w``, so every element of
    the output contributes with a different weight.

    Parameters
    ----------
    fn : callable
        Takes ``inputs`` as positional arguments and returns a Tensor.
    inputs : sequence of Tensor
        Float64 tensors; those with ``autograd=True`` are checked.
    eps : float
        Finite-difference step.
    atol, rtol : float
        Tolerances: ``|analytic - numeric| <= atol + rtol * |numeric|`` element by element.

    Returns
    -------
    bool
        True when every gradient matches.

    Raises
    ------
    AssertionError
        On a mismatch, naming the input, the worst element and both values.
    TypeError
        If an input is not float64 (finite differences are meaningless in float32).

    Notes
    -----
    The inputs' ``.grad`` are reset, and each element of an input is perturbed in place (and
    restored) while the numeric gradient is taken.

    Examples
    --------
    >>> import numpy as np
    >>> from engine import Tensor
    >>> x = Tensor(np.array([0.5, -1.0]), autograd=True, dtype=np.float64)
    >>> gradcheck(lambda t: (t * t).tanh(), [x])
    True
    """
    for i, x in enumerate(inputs):
        if x.autograd and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x.dtype}; use float64 inputs")
    rng = np.random.default_rng(0)
    with no_grad():
        probe = fn(*inputs)
    xp = get_array_module(probe.data)
    weights = xp.asarray(rng.standard_normal(probe.shape))
    for x in inputs:
        x.grad = None
    out = fn(*inputs)
    out.backward(weights)
    for i, x in enumerate(inputs):
        if not x.autograd:
            continue
        analytic = np.zeros(x.shape) if x.grad is None else to_numpy(x.grad.data).astype(float)
        _compare(i, analytic, _numeric_grad(fn, inputs, x, weights, eps), atol, rtol)
    return True


def _compare(i: int, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> None:
    """Raise AssertionError naming input ``i``'s worst element when the gradients differ."""
    err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if err.size and err.max() > 0:
        k = np.unravel_index(int(err.argmax()), err.shape)
        raise AssertionError(
            f"gradcheck: input {i} (shape {analytic.shape}) element {tuple(int(j) for j in k)}: "
            f"backward gives {analytic[k]:.8g}, finite differences {numeric[k]:.8g}"
        )
