"""Helpers for PyTorch state dicts: checking a state against the keys and shapes a layer expects,
and the gate-order conversion between the engine's LSTM (f, i, o, g) and PyTorch's (i, f, g, o).

Nothing here imports torch: a torch tensor is recognised by its ``detach``/``cpu``/``numpy``
methods and converted through them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.errors import EngineError

__all__ = ["TorchState", "as_array", "check_state", "gate_order", "sub_state", "with_prefix"]

TorchState = OrderedDict[str, np.ndarray]

# Block k of the engine's (f, i, o, g) layout is block GATE_PERMUTATION[k] of PyTorch's
# (i, f, g, o), and the other way round (the permutation is its own inverse).
GATE_PERMUTATION = (1, 0, 3, 2)


def as_array(value: Any, key: str) -> np.ndarray:
    """``value`` (a NumPy array, a torch tensor or a number) as a NumPy array.

    Raises
    ------
    EngineError
        If ``value`` is none of these; the message names ``key``.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        raise EngineError(f"state dict key {key!r}: not an array ({error})") from None


def check_state(
    owner: str, state: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """The arrays of ``state``, checked to have exactly the ``expected`` keys and shapes.

    Raises
    ------
    EngineError
        A missing key, an unexpected key or a wrong shape; the message names ``owner`` and
        the key.
    """
    for key in expected:
        if key not in state:
            raise EngineError(f"{owner}.load_torch_state_dict: missing key {key!r}")
    for key in state:
        if key not in expected:
            raise EngineError(f"{owner}.load_torch_state_dict: unexpected key {key!r}")
    arrays: dict[str, np.ndarray] = {}
    for key, shape in expected.items():
        array = as_array(state[key], key)
        if array.dtype.kind not in "biuf":
            raise EngineError(
                f"{owner}.load_torch_state_dict: {key!r} holds {array.dtype} values, not numbers"
            )
        if tuple(array.shape) != tuple(shape):
            raise EngineError(
                f"{owner}.load_torch_state_dict: {key!r} has shape {tuple(array.shape)}, "
                f"expected {tuple(shape)}"
            )
        arrays[key] = array
    return arrays


def with_prefix(prefix: str, state: Mapping[str, np.ndarray]) -> TorchState:
    """``state`` with every key preceded by ``prefix`` (e.g. ``"0."``)."""
    return OrderedDict((prefix + key, value) for key, value in state.items())


def sub_state(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of ``state`` whose key starts with ``prefix``, the prefix removed."""
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


def gate_order(array: np.ndarray, axis: int = 0) -> np.ndarray:
    """Swap the four gate blocks along ``axis`` between the engine's order (f, i, o, g) and
    PyTorch's (i, f, g, o); applying it twice gives the input back."""
    blocks = np.split(np.asarray(array), 4, axis=axis)
    return np.concatenate([blocks[k] for k in GATE_PERMUTATION], axis=axis)
