"""``Layer``: the base of every layer, with the book's ``get_parameters()`` and PyTorch-style
registration of parameters, buffers and sub-layers."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from engine import backend
from engine.errors import EngineError, ShapeError
from engine.nn.torch_state import check_state
from engine.tensor import Tensor

__all__ = ["Layer", "StatelessLayer", "parameter"]


def parameter(data: Any) -> Tensor:
    """Return a trainable leaf tensor (``autograd=True``) in the default float dtype."""
    return Tensor(np.asarray(data, dtype=backend.get_default_dtype()), autograd=True)


def _is_array(value: Any) -> bool:
    """A NumPy or CuPy array (what a buffer holds)."""
    return isinstance(value, np.ndarray) or backend.device_of(value) == "gpu"


class Layer:
    """Base class of layers and losses.

    Assigning a leaf ``autograd=True`` :class:`Tensor` to an attribute registers it as a parameter,
    assigning a :class:`Layer` registers it as a sub-layer; both keep their insertion order,
    which is the book's parameter order. Arrays registered with :meth:`register_buffer` (running
    statistics) are saved in the state dict but not trained.

    Examples
    --------
    >>> from engine import Linear
    >>> layer = Linear(3, 2)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight', 'bias']
    >>> sorted(layer.state_dict())
    ['bias', 'weight']
    """

    training: bool
    _params: dict[str, Tensor]
    _layers: dict[str, Layer]
    _buffers: dict[str, bool]

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_layers", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_params" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        self._params.pop(name, None)
        self._layers.pop(name, None)
        if isinstance(value, Tensor) and value.autograd and value.creators is None:
            self._params[name] = value  # a trainable leaf (an op result stored here is not)
        elif isinstance(value, Layer):
            self._layers[name] = value
        if not _is_array(value):
            self._buffers.pop(name, None)  # an array stays a buffer (``buf *= m`` assigns too)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._params, self._layers, self._buffers):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: Any) -> None:
        """Store ``array`` as attribute ``name``, saved by :meth:`state_dict` but not trained."""
        setattr(self, name, array)
        self._buffers[name] = True

    def reset_parameters(self) -> None:
        """Draw fresh initial values in place (each layer's documented formula), sub-layers in
        order; the parameter tensors stay the same objects."""
        for layer in self._layers.values():
            layer.reset_parameters()

    def _set_parameter(self, name: str, value: Any) -> None:
        """Register parameter ``name`` holding ``value``, or overwrite the existing one in place."""
        existing = self._params.get(name)
        if existing is None:
            setattr(self, name, parameter(value))
        else:
            value = np.asarray(value, dtype=existing.dtype)
            existing.data[...] = backend.to_device(value, existing.device)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the layer's output; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- parameters -------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted_name, parameter)`` pairs, each parameter once, in book order."""
        seen: set[int] = set()
        for name, p in self._named_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_parameters(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, p in self._params.items():
            yield prefix + name, p
        for name, layer in self._layers.items():
            yield from layer._named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Tensor]:
        """Return the trainable tensors in book order (own ones first, then sub-layers')."""
        return [p for _, p in self.named_parameters()]

    def get_parameters(self) -> list[Tensor]:
        """The book's name for :meth:`parameters`."""
        return self.parameters()

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, Layer]]:
        """Yield ``(dotted_name, layer)`` for this layer (name ``prefix``) and every sub-layer."""
        yield prefix, self
        for name, layer in self._layers.items():
            yield from layer.named_layers(f"{prefix}.{name}" if prefix else name)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (``grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        """Return the number of trainable scalars."""
        return sum(int(p.size) for p in self.parameters())

    # --- modes and devices ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Switch this layer and its sub-layers to training mode (or evaluation); return self."""
        for _, layer in self.named_layers():
            object.__setattr__(layer, "training", mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode (dropout off, batch norm uses running statistics)."""
        return self.train(False)

    def to(self, device: str) -> Layer:
        """Move every parameter and buffer to ``device`` in place ('cpu' or 'gpu'); return self.

        Raises
        ------
        DeviceError
            If ``device`` is unknown or the GPU is unusable (the message says why).
        """
        for _, layer in self.named_layers():
            for p in layer._params.values():
                p.data = backend.to_device(p.data, device)
                if p.grad is not None:
                    p.grad.data = backend.to_device(p.grad.data, device)
            for name in layer._buffers:
                object.__setattr__(layer, name, backend.to_device(getattr(layer, name), device))
        return self

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Return copies of the parameters and buffers as NumPy arrays keyed by dotted name.

        The keys are valid ``np.savez`` names, so ``np.savez(path, **layer.state_dict())``
        saves a model without pickling.
        """
        state = {name: backend.to_numpy(p.data).copy() for name, p in self.named_parameters()}
        for prefix, layer in self.named_layers():
            for name in layer._buffers:
                key = f"{prefix}.{name}" if prefix else name
                state[key] = backend.to_numpy(getattr(layer, name)).copy()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays from ``state`` into the parameters and buffers, in place.

        Parameters
        ----------
        state : dict of str to array
            As made by :meth:`state_dict` (or loaded back with ``np.load``).
        strict : bool
            Require exactly the same keys.

        Raises
        ------
        KeyError
            Missing or unexpected keys (with ``strict``), all listed.
        ShapeError
            An array whose shape differs from the parameter's; names the key and both shapes.
        """
        targets = self._state_targets()
        if strict:
            missing = sorted(set(targets) - set(state))
            unexpected = sorted(set(state) - set(targets))
            if missing or unexpected:
                raise KeyError(
                    f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                    f"unexpected keys {unexpected}"
                )
        for key, (layer, name) in targets.items():
            if key not in state:
                continue
            current = layer._params[name].data if name in layer._params else getattr(layer, name)
            value = np.asarray(backend.to_numpy(state[key]))
            if tuple(value.shape) != tuple(current.shape):
                raise ShapeError(
                    f"load_state_dict: {key!r} has shape {tuple(value.shape)} in the state "
                    f"but {tuple(current.shape)} in the model"
                )
            value = value.astype(current.dtype)
            current[...] = backend.to_device(value, backend.device_of(current))

    def _state_targets(self) -> dict[str, tuple[Layer, str]]:
        targets: dict[str, tuple[Layer, str]] = {}
        seen: set[int] = set()
        for prefix, layer in self.named_layers():
            for name in [*layer._params, *layer._buffers]:
                obj = layer._params.get(name)
                if obj is not None and id(obj) in seen:
                    continue
                if obj is not None:
                    seen.add(id(obj))
                targets[f"{prefix}.{name}" if prefix else name] = (layer, name)
        return targets

    # --- PyTorch state dicts ----------------------------------------------------------------
    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Return the state of the PyTorch counterpart: NumPy arrays whose keys, order and shapes
        are those of its ``state_dict()`` (load them with ``torch.from_numpy``).

        Raises
        ------
        EngineError
            If the layer has no PyTorch counterpart.
        """
        raise EngineError(f"{type(self).__name__} has no PyTorch counterpart")

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy a PyTorch counterpart's ``state_dict()`` (NumPy arrays or torch tensors; torch
        is never imported for NumPy input) into this layer, in place.

        Raises
        ------
        EngineError
            A missing key, an unexpected key or a wrong shape (the message names the key), or a
            layer without a PyTorch counterpart.
        """
        expected = {key: value.shape for key, value in self.torch_state_dict().items()}
        self._load_torch_arrays(check_state(type(self).__name__, state_dict, expected))

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Store arrays already checked against :meth:`torch_state_dict`'s keys and shapes."""
        raise EngineError(f"{type(self).__name__} has no PyTorch counterpart")

    # --- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """Return the constructor arguments shown by ``repr`` (subclasses override it)."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not self._layers:
            return head + ")"
        lines = [head]
        for name, layer in self._layers.items():
            body = repr(layer).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class StatelessLayer(Layer):
    """A layer without parameters or buffers whose PyTorch counterpart (``nn.ReLU``,
    ``nn.Flatten``, ...) has an empty state dict."""

    def torch_state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Return an empty state dict (the counterpart has no state)."""
        return OrderedDict()

    def _load_torch_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Nothing to store."""
