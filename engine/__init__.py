"""nodegrad's deep-learning engine: tensors with automatic differentiation, layers, losses,
optimizers and datasets, on NumPy (CuPy on a GPU).

The public names follow the framework of *Grokking Deep Learning* (chapters 13-14), so the book's
listings run with ``from engine import *``.
"""

from engine.losses import *
from engine.nn import *
from engine.optim import *
