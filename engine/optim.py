"""Optimizers: the book's ``SGD`` (with PyTorch-style momentum), ``Adam`` and ``AdamW``, and
``clip_grad_norm``; every formula is PyTorch's (weight decay included).

Both update the parameter arrays in place, so a layer's tensors stay the same objects, and keep
their state per parameter *position* in the list they were given, so the state can be saved with
``np.savez`` and restored into a freshly built model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

import numpy as np

from engine import backend, kernels, optim_cuda
from engine.leaf_grad import LeafGrad
from engine.ops import parallel
from engine.tensor import Tensor

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "clip_grad_norm"]


def slot_dtype(dtype: Any) -> np.dtype:
    """The dtype of optimizer state for parameters of ``dtype``: float32 for float16, whose
    range loses Adam's ``eps`` (1e-8) and the squares of small gradients."""
    dt = np.dtype(dtype)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _flat(data: np.ndarray, grad: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """A parameter and its gradient as flat contiguous arrays of ``dtype`` (the state's:
    float32 for float16) for a CPU kernel; the parameter is a converted copy when it is not
    such an array already (:func:`_write_back` puts the update into it)."""
    p = data if data.dtype == dtype and data.flags.c_contiguous else np.array(data, dtype=dtype)
    return p.reshape(-1), np.ascontiguousarray(grad, dtype=dtype).reshape(-1)


def _write_back(data: np.ndarray, p: np.ndarray) -> None:
    """Put an update made on a converted copy ``p`` (see :func:`_flat`) into ``data``; nothing
    to do when ``p`` is a view of it."""
    if not np.may_share_memory(data, p):
        data[...] = p.reshape(data.shape)


def _adam_arrays(
    xp: Any, data: Any, grad: Any, m: Any, v: Any, opt: Adam, l2: float, keep: float
) -> None:
    """Adam's update by array operations, for CuPy arrays without a fused kernel."""
    if l2:
        grad = grad + l2 * data
    if keep != 1.0:
        data *= keep
    m *= opt.beta1
    m += (1.0 - opt.beta1) * grad
    v *= opt.beta2
    v += (1.0 - opt.beta2) * grad * grad
    denom = xp.sqrt(v / (1.0 - opt.beta2**opt.t))
    denom += opt.eps
    data -= (opt.alpha / (1.0 - opt.beta1**opt.t) * m / denom).astype(data.dtype, copy=False)


class Optimizer:
    """Base of the optimizers: the parameter list, ``zero()`` and the state-dict plumbing.

    Parameters
    ----------
    parameters : iterable of Tensor
        The tensors to train, e.g. ``model.get_parameters()``.
    alpha : float
        Learning rate; the attribute may be changed between steps.
    """

    #: Names of the per-parameter state arrays (e.g. ``("v",)``).
    slots: tuple[str, ...] = ()

    def __init__(self, parameters: Iterable[Tensor], alpha: float) -> None:
        self.parameters = list(parameters)
        for k, p in enumerate(self.parameters):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: parameter {k} is a {type(p).__name__}, not a Tensor"
                )
        self.alpha = float(alpha)
        self.state: dict[int, dict[str, Any]] = {}
        self.t = 0

    def zero(self) -> None:
        """Set every gradient to zero (the book's ``p.grad.data *= 0``).

        A leaf's own gradient (:class:`engine.leaf_grad.LeafGrad`) is only marked stale: it reads
        as zeros, and the next backward overwrites it instead of adding to zeros; any other
        gradient tensor (one assigned by the user) is filled with zeros in place.
        """
        for p in self.parameters:
            g = p._grad
            if type(g) is LeafGrad:
                g.stale = True
            elif g is not None:
                cast(Tensor, p.grad).data.fill(0)

    def step(self, zero: bool = True) -> None:
        """Update every parameter that has a gradient, then zero the gradients if ``zero``.

        With several engine threads (``engine.set_num_threads``) and enough NumPy parameters,
        the parameters are updated on those threads at once (each by the same code), the
        largest first.
        """
        self.t += 1
        if parallel.get_num_threads() == 1 or not self._update_on_threads():
            for k, p in enumerate(self.parameters):
                if p.grad is not None:
                    self._update(k, p.data, p.grad.data)
        if zero:
            self.zero()

    def _update_on_threads(self) -> bool:
        """Update the parameters on the engine's threads when they are NumPy arrays large
        enough together; return whether it did."""
        todo = [k for k, p in enumerate(self.parameters) if p.grad is not None]
        sizes = [self.parameters[k].size for k in todo]
        if not parallel.splits(sum(sizes)) or any(
            type(self.parameters[k].data) is not np.ndarray for k in todo
        ):
            return False
        fresh = [k for k in todo if k not in self.state]
        for k in fresh:  # the state keeps the parameters' order, as updated one by one
            self.state[k] = {}
        parts = sorted(todo, key=lambda k: -self.parameters[k].size)  # largest claimed first

        def update(i: int) -> None:
            p = self.parameters[parts[i]]
            self._update(parts[i], p.data, cast(Tensor, p.grad).data)

        parallel.for_parts(update, len(parts))
        for k in fresh:
            if not self.state[k]:  # a rule without state (SGD without momentum)
                del self.state[k]
        return True

    def _update(self, k: int, data: Any, grad: Any) -> None:
        raise NotImplementedError

    def _slot(self, k: int, name: str, like: Any) -> Any:
        """Return state array ``name`` of parameter ``k``, created as zeros on first use
        (float32 for a float16 parameter: see :func:`slot_dtype`)."""
        slots = self.state.setdefault(k, {})
        if name not in slots:
            xp = backend.get_array_module(like)
            slots[name] = xp.zeros(like.shape, dtype=slot_dtype(like.dtype))
        return slots[name]

    def hyperparameters(self) -> dict[str, float]:
        """Return the scalar settings saved in the state dict."""
        return {"alpha": self.alpha}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the settings, step count and state arrays as NumPy arrays.

        Keys are ``"alpha"``, ``"t"``... and ``"<slot>.<position>"`` (e.g. ``"v.3"`` for the
        fourth parameter), all valid ``np.savez`` names.
        """
        out = {name: np.asarray(value) for name, value in self.hyperparameters().items()}
        out["t"] = np.asarray(self.t)
        for k, slots in self.state.items():
            for name, arr in slots.items():
                out[f"{name}.{k}"] = backend.to_numpy(arr).copy()
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (onto the parameters' devices).

        Raises
        ------
        KeyError
            A state array for a position or slot this optimizer does not have.
        ValueError
            A state array whose shape differs from its parameter's.
        """
        self.state = {}
        for key, value in state.items():
            if "." not in key:
                if key == "t":
                    self.t = int(value)
                else:
                    setattr(self, key, float(value))
                continue
            name, pos = key.rsplit(".", 1)
            k = int(pos)
            if name not in self.slots or not 0 <= k < len(self.parameters):
                raise KeyError(f"{type(self).__name__}.load_state_dict: unexpected key {key!r}")
            p = self.parameters[k]
            arr = np.asarray(value)
            if arr.shape != tuple(p.shape):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: {key!r} has shape "
                    f"{arr.shape}, parameter {k} has {tuple(p.shape)}"
                )
            arr = backend.to_device(arr.astype(slot_dtype(p.dtype)), p.device)
            self.state.setdefault(k, {})[name] = arr


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's formulation).

    ``g = grad + weight_decay * p; v = momentum * v + g; p -= alpha * v`` (plain
    ``p -= alpha * g`` when momentum is 0).

    Parameters
    ----------
    parameters : iterable of Tensor
        The tensors to train.
    alpha : float
        Learning rate.
    momentum : float
        Momentum factor, 0 for none.
    weight_decay : float
        L2 penalty added to the gradient (PyTorch's ``weight_decay``), 0 for none.

    Examples
    --------
    >>> w = Tensor([1.0, 2.0], autograd=True)
    >>> (w * w).sum().backward()
    >>> opt = SGD([w], alpha=0.1)
    >>> opt.step(); w, w.grad
    (array([0.8, 1.6], dtype=float32), array([0., 0.], dtype=float32))
    """

    slots = ("v",)

    def __init__(
        self,
        parameters: Iterable[Tensor],
        alpha: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, alpha)
        self.momentum = float(momentum)
        self.weight_decay = _non_negative("weight_decay", weight_decay)

    def _update(self, k: int, data: Any, grad: Any) -> None:
        xp = backend.get_array_module(data)
        if xp is not np and backend.has_fused_kernels(data, grad):  # one GPU kernel
            v = self._slot(k, "v", data) if self.momentum else None
            optim_cuda.sgd(xp, data, grad, self.alpha, self.momentum, v, self.weight_decay)
            return
        if xp is not np:  # CuPy arrays the fused kernel does not take (float16)
            if self.weight_decay:
                grad = grad + self.weight_decay * data
            if self.momentum:
                v = self._slot(k, "v", data)
                v *= self.momentum
                v += grad
                grad = v
            data -= self.alpha * grad
            return

        p, g = _flat(data, grad, slot_dtype(data.dtype))
        if self.momentum:
            v = self._slot(k, "v", data).reshape(-1)
            kernels.optimizers.sgd_momentum_step(
                p, g, v, self.alpha, self.momentum, self.weight_decay
            )
        else:
            kernels.optimizers.sgd_step(p, g, self.alpha, self.weight_decay)
        _write_back(data, p)

    def hyperparameters(self) -> dict[str, float]:
        """Return ``alpha``, ``momentum`` and ``weight_decay``."""
        return {"alpha": self.alpha, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam (Kingma and Ba), with PyTorch's update rule.

    ``g = grad + weight_decay * p``, ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g²``,
    ``p -= alpha * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.

    Parameters
    ----------
    parameters : iterable of Tensor
        The tensors to train.
    alpha : float
        Learning rate.
    betas : (float, float)
        Decay rates of the first and second moment estimates.
    eps : float
        Added to the denominator.
    weight_decay : float
        L2 penalty added to the gradient (PyTorch's ``Adam(weight_decay=...)``), 0 for none.
    """

    slots = ("m", "v")
    #: Whether the weight decay is decoupled from the gradient (AdamW) instead of an L2 term.
    decoupled = False

    def __init__(
        self,
        parameters: Iterable[Tensor],
        alpha: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, alpha)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.weight_decay = _non_negative("weight_decay", weight_decay)

    def _update(self, k: int, data: Any, grad: Any) -> None:
        xp = backend.get_array_module(data)
        m, v = self._slot(k, "m", data), self._slot(k, "v", data)
        step_size = self.alpha / (1.0 - self.beta1**self.t)
        l2 = 0.0 if self.decoupled else self.weight_decay
        keep = 1.0 - self.alpha * self.weight_decay if self.decoupled else 1.0
        if xp is not np and backend.has_fused_kernels(data, grad):  # one GPU kernel
            betas, bias2 = (self.beta1, self.beta2), 1.0 - self.beta2**self.t
            decay = (l2, keep)
            optim_cuda.adam(xp, data, grad, m, v, betas, step_size, bias2, self.eps, decay)
            return
        if xp is not np:  # CuPy arrays the fused kernel does not take (float16)
            _adam_arrays(xp, data, grad.astype(m.dtype), m, v, self, l2, keep)
            return

        p, g = _flat(data, grad, m.dtype)
        betas, bias2 = (self.beta1, self.beta2), 1.0 - self.beta2**self.t
        m, v = m.reshape(-1), v.reshape(-1)
        kernels.optimizers.adam_step(p, g, m, v, betas, step_size, bias2, self.eps, l2, keep)
        _write_back(data, p)

    def hyperparameters(self) -> dict[str, float]:
        """Return ``alpha``, ``beta1``, ``beta2``, ``eps`` and ``weight_decay``."""
        return {
            "alpha": self.alpha,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's ``AdamW``.

    ``p *= 1 - alpha * weight_decay`` before Adam's step (no L2 term in the gradient).

    Parameters
    ----------
    parameters : iterable of Tensor
        The tensors to train.
    alpha : float
        Learning rate.
    betas : (float, float)
        Decay rates of the first and second moment estimates.
    eps : float
        Added to the denominator.
    weight_decay : float
        Decoupled weight decay factor (PyTorch's default 0.01).
    """

    decoupled = True

    def __init__(
        self,
        parameters: Iterable[Tensor],
        alpha: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(parameters, alpha, betas, eps, weight_decay)


def clip_grad_norm(parameters: Iterable[Tensor], max_norm: float) -> float:
    """Scale the gradients in place so that their joint L2 norm is at most ``max_norm``.

    PyTorch's ``clip_grad_norm_``: the norm over all gradients together, each multiplied by
    ``max_norm / (norm + 1e-6)`` when that is below 1. Parameters without a gradient are skipped.

    Returns
    -------
    float
        The norm before clipping.

    Examples
    --------
    >>> w = Tensor([3.0, 4.0], autograd=True)
    >>> w.grad = Tensor([3.0, 4.0])
    >>> clip_grad_norm([w], 1.0), w.grad.numpy().round(3)
    (5.0, array([0.6, 0.8], dtype=float32))
    """
    max_norm = _non_negative("max_norm", max_norm)
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    squares = [backend.get_array_module(g).vdot(g.ravel(), g.ravel()) for g in grads]
    total = math.sqrt(float(sum(float(s) for s in squares)))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value
