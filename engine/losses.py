"""Loss layers: ``MSELoss`` (the book's, summed over the batch), ``CrossEntropyLoss`` and
``BCEWithLogitsLoss``. Each is a :class:`Layer` without parameters whose ``forward(pred, target)``
returns a scalar-like Tensor."""

from __future__ import annotations

import math
from typing import Any

from engine.errors import ShapeError
from engine.nn.module import Layer
from engine.tensor import Tensor

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss"]


def _shapes_match(name: str, pred: Tensor, target: Any) -> None:
    shape = tuple(getattr(target, "shape", ()))
    if tuple(pred.shape) != shape:
        raise ShapeError(f"{name}: prediction shape {pred.shape} != target shape {shape}")


class MSELoss(Layer):
    """Squared error.

    Parameters
    ----------
    reduction : {'sum', 'mean'}
        ``'sum'`` (default, the book's formula ``((pred - target) ** 2).sum(0)``): summed over
        the batch axis, one sum per output, so a (N, K) prediction gives a loss of shape (K,)
        ((1,) for one output, as in the book); ``backward()`` seeds every sum with one, which
        is the gradient of their total. ``'mean'``: a scalar, the mean over every element.

    Examples
    --------
    >>> import numpy as np
    >>> pred, target = Tensor([[1.0], [3.0]], autograd=True), Tensor([[0.0], [1.0]])
    >>> MSELoss().forward(pred, target)
    array([5.], dtype=float32)
    >>> MSELoss("mean")(pred, target)
    array(2.5, dtype=float32)
    >>> MSELoss()(Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([[0.0, 0.0], [0.0, 0.0]]))
    array([10., 20.], dtype=float32)
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__()
        if reduction not in ("sum", "mean"):
            raise ValueError(f"MSELoss: reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        """Return the summed (or mean) squared error between ``pred`` and ``target``."""
        _shapes_match("MSELoss", pred, target)
        diff = pred - target
        squared: Tensor = diff * diff
        if self.reduction == "mean":
            return squared.mean()
        per_output: Tensor = squared.sum(0)
        return per_output

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(Layer):
    """Softmax cross-entropy on logits with integer class targets, averaged over the targets.

    Shape
    -----
    Logits (N, C) with targets (N,), or logits (N, T, C) with targets (N, T); the result is a
    0-d tensor. As in the book, targets of another shape with the right number of elements
    (e.g. (N, 1)) are flattened. Fused and max-subtracted, so large logits never overflow;
    unlike the book, the gradient is that of the mean it reports.

    Examples
    --------
    >>> import numpy as np
    >>> logits = Tensor(np.zeros((2, 4)), autograd=True)
    >>> round(CrossEntropyLoss()(logits, np.array([1, 3])).item(), 4)  # ln 4
    1.3863
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Return the mean of ``-log softmax(input)[target]``."""
        idx = target.data if isinstance(target, Tensor) else target
        count = math.prod(input.shape[:-1])
        if input.ndim < 2 or int(idx.size) != count:
            raise ShapeError(
                f"CrossEntropyLoss: logits {input.shape} need {count} targets, shaped "
                f"{input.shape[:-1]}, got {tuple(idx.shape)}"
            )
        if input.ndim > 2:
            input = input.reshape(-1, input.shape[-1])
        return input.cross_entropy(idx.reshape(-1) if idx.ndim != 1 else idx)


class BCEWithLogitsLoss(Layer):
    """Binary cross-entropy on logits, averaged over every element.

    ``loss = mean(max(x, 0) - x * y + log(1 + exp(-|x|)))``: the sigmoid is fused into the loss
    in this form so that no logit overflows. Targets are probabilities in [0, 1] shaped like the
    logits.

    Examples
    --------
    >>> import numpy as np
    >>> x = Tensor(np.array([[0.0], [100.0]]), autograd=True)
    >>> round(BCEWithLogitsLoss()(x, np.array([[1.0], [1.0]])).item(), 4)  # (ln 2 + 0) / 2
    0.3466
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Return the mean binary cross-entropy of ``sigmoid(input)`` against ``target``."""
        _shapes_match("BCEWithLogitsLoss", input, target)
        softplus = ((-input.abs()).exp() + 1.0).log()
        elementwise: Tensor = input.relu() - input * target + softplus
        return elementwise.mean()
