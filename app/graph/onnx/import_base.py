"""What an import converter works with: the ONNX node, its input values, typed accessors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from onnx import NodeProto, helper

from app.graph.onnx.values import Const, Layout, Plan, Poison, Sym, Tensor, Unsupported, Value


@dataclass
class OnnxNode:
    """One ONNX node being imported: its proto, the value of each input (None: omitted), the
    model's opset and how many nodes (or graph outputs) read each input."""

    proto: NodeProto
    inputs: list[Value | None]
    opset: int
    uses: list[int]

    @property
    def name(self) -> str:
        """The node's name in the model (may be empty)."""
        return str(self.proto.name)

    def attr(self, name: str, default: Any = None) -> Any:
        """The attribute's value (ints, floats, strings decoded), else ``default``."""
        for attribute in self.proto.attribute:
            if attribute.name == name:
                value = helper.get_attribute_value(attribute)
                if isinstance(value, bytes):
                    return value.decode("utf-8", "replace")
                if isinstance(value, list):
                    return [_text(v) for v in value]
                return value
        return default

    def input(self, index: int) -> Value | None:
        """Input ``index`` (None when omitted or absent)."""
        return self.inputs[index] if index < len(self.inputs) else None

    def tensor(self, index: int = 0) -> Tensor:
        """Input ``index`` as a plain nodegrad value; anything else is :class:`Unsupported`."""
        value = self.input(index)
        if isinstance(value, Tensor) and value.layout in (Layout.PLAIN, Layout.POOLED):
            return value  # a pooled view is reshaped when a node reads it
        raise Unsupported(f"input {index} must be a computed tensor, {describe(value)}")

    def const(self, index: int, what: str) -> np.ndarray:
        """Input ``index`` as a constant array (a weight); else :class:`Unsupported`."""
        value = self.input(index)
        if isinstance(value, Const):
            return value.array
        raise Unsupported(f"{what} (input {index}) must be a constant, {describe(value)}")

    def const_or(self, index: int, default: np.ndarray | None) -> np.ndarray | None:
        """Input ``index`` as a constant, ``default`` when omitted."""
        return default if self.input(index) is None else self.const(index, f"input {index}")

    def const_default(self, index: int, default: np.ndarray) -> np.ndarray:
        """Input ``index`` as a constant, ``default`` when omitted."""
        return default if self.input(index) is None else self.const(index, f"input {index}")

    def require(self, condition: bool, reason: str) -> None:
        """Raise :class:`Unsupported` with ``reason`` unless ``condition`` holds."""
        if not condition:
            raise Unsupported(reason)


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def describe(value: Value | None) -> str:
    """A short phrase for error messages saying what a value is."""
    if value is None:
        return "got nothing"
    if isinstance(value, Tensor):
        plain = value.layout is Layout.PLAIN
        return "got a computed tensor" if plain else f"got a {value.layout.value} view"
    if isinstance(value, Const):
        return "got a constant"
    if isinstance(value, Sym):
        return "got a shape computation"
    if isinstance(value, Poison):
        return f"got an unusable value ({value.reason})" if value.reason else "got nothing"
    return "got zeros of a batch-dependent shape"


ImportConverter = Callable[[Plan, OnnxNode], list[Value]]
