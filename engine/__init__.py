"""nodegrad's deep-learning engine: tensors with automatic differentiation, layers, losses,
optimizers and datasets, on NumPy (CuPy on a GPU).

The public names follow the framework of *Grokking Deep Learning* (chapters 13-14), so the book's
listings run with ``from engine import *``. Where nodegrad deliberately differs from the book:

1. True gradients: ``cross_entropy`` divides its gradient by the number of targets (the loss it
   reports is the mean), and backward is an exact topological pass (no re-propagation or dropped
   gradients in recurrent nets).
2. Tensor ids come from a counter, not from NumPy's global random state.
3. An op records a graph node when any operand has ``autograd=True``; Python scalars and arrays
   mix with tensors on either side, with NumPy broadcasting.
4. float32 by default (:func:`set_default_dtype`); integer data stays integer.
5. ``softmax`` subtracts the max and returns a Tensor; a second backward through a freed graph
   raises :class:`EngineError` (pass ``retain_graph=True`` to keep it).
"""

from engine import backend
from engine import losses as _losses
from engine import nn as _nn
from engine import optim as _optim
from engine.autograd import Function, backward_steps, is_grad_enabled, no_grad, tagging
from engine.backend import available_devices, get_default_dtype, set_default_dtype
from engine.errors import DeviceError, EngineError, ShapeError
from engine.gradcheck import gradcheck
from engine.losses import *
from engine.nn import *
from engine.ops import concat, stack
from engine.optim import *
from engine.tensor import Tensor

__all__ = [
    *_nn.__all__,
    *_losses.__all__,
    *_optim.__all__,
    "DeviceError",
    "EngineError",
    "Function",
    "ShapeError",
    "Tensor",
    "available_devices",
    "backend",
    "backward_steps",
    "concat",
    "get_default_dtype",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_default_dtype",
    "stack",
    "tagging",
]
