"""nodegrad's deep-learning engine: tensors with automatic differentiation, layers, losses,
optimizers and datasets, on NumPy (CuPy on a GPU).

The public names follow the framework of *Grokking Deep Learning* (chapters 13-14), so the book's
listings run with ``from engine import *``. Where nodegrad deliberately differs from the book
(``docs/engine.md`` explains each point):

1. True gradients: ``cross_entropy`` divides its gradient by the number of targets (the loss it
   reports is the mean); to reproduce the book's training dynamics, multiply ``alpha`` by the
   batch size. Backward is an exact, iterative topological pass (the book's recursive one
   mis-sums gradients in recurrent nets).
2. Tensor ids come from a counter, not from NumPy's global random state (a seeded listing gets
   other initial weights than the book; with the book's weights loaded, numbers match).
3. An op records a graph node when any operand has ``autograd=True``; Python scalars and arrays
   mix with tensors on either side, with NumPy broadcasting.
4. ``init_hidden`` returns zeros for both cells (the book sets column 0 to 1).
5. float32 by default (:func:`set_default_dtype`); integer data stays integer.
6. Book bugs are not reproduced: ``RNNCell(activation='tanh')`` works, ``Sequential()`` has no
   shared default list, ``softmax`` subtracts the max and returns a Tensor, and a second backward
   through a freed graph raises :class:`EngineError` (pass ``retain_graph=True`` to keep it).

Importing the engine on Linux with glibc raises malloc's mmap and trim thresholds (to 32 and
64 MiB, :func:`engine.backend.tune_allocator`), so each training step reuses the heap memory the
last one freed instead of faulting it in again; set ``NODEGRAD_NO_MALLOPT=1`` before the import
to keep the C library's defaults.
"""

from engine import autograd as _autograd
from engine import backend
from engine import losses as _losses
from engine import lr_scheduler as _lr_scheduler
from engine import nn as _nn
from engine import optim as _optim
from engine.autograd import Function, backward_steps, is_grad_enabled, no_grad, tagging
from engine.backend import available_devices, get_default_dtype, set_default_dtype
from engine.errors import DeviceError, EngineError, ShapeError
from engine.gradcheck import gradcheck
from engine.losses import *
from engine.lr_scheduler import *
from engine.nn import *
from engine.ops import concat, stack
from engine.ops.parallel import get_num_threads, set_num_threads
from engine.optim import *
from engine.tensor import Tensor

_autograd._calibrate()  # before any thread runs a backward (see engine/leaf_grad.py)

__all__ = [
    *_nn.__all__,
    *_losses.__all__,
    *_optim.__all__,
    *_lr_scheduler.__all__,
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
    "get_num_threads",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_default_dtype",
    "set_num_threads",
    "stack",
    "tagging",
]
