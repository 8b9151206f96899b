"""Helpers for the PyTorch state-dict methods of the layers in this package: reading arrays
(NumPy or torch tensors) and checking keys and shapes against the counterpart module's."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine import backend
from engine.errors import EngineError
from engine.tensor import Tensor

__all__ = [
    "as_numpy",
    "checked",
    "copy_into",
    "linear_shapes",
    "linear_state",
    "load_linear",
    "state_of",
]


def as_numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a NumPy/CuPy array, an engine Tensor or a torch tensor."""
    if isinstance(value, Tensor):
        value = value.data
    if hasattr(value, "detach"):  # a torch tensor (torch is not imported here)
        return np.array(value.detach().cpu().numpy())
    return np.array(backend.to_numpy(value))


def checked(
    owner: str, state: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """Return ``state``'s arrays as NumPy, after checking they are exactly ``expected``.

    Raises
    ------
    EngineError
        Naming the first missing or unexpected key, or a key whose shape differs.
    """
    missing = [k for k in expected if k not in state]
    if missing:
        raise EngineError(f"{owner}.load_torch_state_dict: missing key {missing[0]!r}")
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise EngineError(f"{owner}.load_torch_state_dict: unexpected key {unexpected[0]!r}")
    arrays = {k: as_numpy(state[k]) for k in expected}
    for key, shape in expected.items():
        if tuple(arrays[key].shape) != tuple(shape):
            raise EngineError(
                f"{owner}.load_torch_state_dict: {key!r} has shape {tuple(arrays[key].shape)}, "
                f"expected {tuple(shape)}"
            )
    return arrays


def copy_into(param: Tensor, value: np.ndarray) -> None:
    """Overwrite ``param``'s data in place with ``value`` (cast, moved to its device)."""
    value = np.asarray(value, dtype=param.dtype)
    param.data[...] = backend.to_device(value, param.device)


def linear_state(layer: Any, prefix: str = "") -> OrderedDict[str, np.ndarray]:
    """The ``nn.Linear`` keys of an engine ``Linear`` (its (in, out) weight transposed)."""
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    out[prefix + "weight"] = as_numpy(layer.weight).T.copy()
    if getattr(layer, "use_bias", True):
        out[prefix + "bias"] = as_numpy(layer.bias)
    return out


def linear_shapes(layer: Any, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """The ``nn.Linear`` key shapes of an engine ``Linear``."""
    shapes: dict[str, tuple[int, ...]] = {prefix + "weight": (layer.n_outputs, layer.n_inputs)}
    if getattr(layer, "use_bias", True):
        shapes[prefix + "bias"] = (layer.n_outputs,)
    return shapes


def load_linear(layer: Any, arrays: Mapping[str, np.ndarray], prefix: str = "") -> None:
    """Copy checked ``nn.Linear`` arrays into an engine ``Linear``."""
    copy_into(layer.weight, arrays[prefix + "weight"].T)
    if getattr(layer, "use_bias", True):
        copy_into(layer.bias, arrays[prefix + "bias"])


def state_of(layer: Any, names: tuple[str, ...]) -> OrderedDict[str, np.ndarray]:
    """The named parameters (PyTorch layout already) as NumPy copies, in order."""
    return OrderedDict((n, as_numpy(getattr(layer, n))) for n in names)
