"""Building an ONNX graph one node at a time: unique value names, nodes and initializers.

The exporter's converters (:mod:`app.graph.onnx.export_ops`) write through an :class:`Emitter`;
it owns the name space, so no two values or nodes collide whatever the node ids are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper

OPSET = 17
"""The ONNX operator set the exporter writes (LayerNormalization needs 17)."""


class Emitter:
    """Collects the nodes and initializers of one ONNX graph.

    Examples
    --------
    >>> e = Emitter()
    >>> e.op("Relu", ["input"], name="relu_1")
    ['relu_1.y']
    """

    def __init__(self) -> None:
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._taken: set[str] = set()

    def name(self, hint: str) -> str:
        """A value or node name not used yet: ``hint``, else ``hint_2``, ``hint_3``, …"""
        candidate, n = hint, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{hint}_{n}"
        self._taken.add(candidate)
        return candidate

    def reserve(self, name: str) -> None:
        """Mark ``name`` (a graph input) as used."""
        self._taken.add(name)

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        *,
        name: str,
        outputs: Sequence[str] = ("y",),
        **attributes: Any,
    ) -> list[str]:
        """Append one node named ``name``; returns its output value names (``name.port``)."""
        node_name = self.name(name)
        out = [self.name(f"{name}.{port}") if port else "" for port in outputs]
        self.nodes.append(helper.make_node(op_type, list(inputs), out, node_name, **attributes))
        return out

    def weight(self, name: str, array: Any, dtype: Any = np.float32) -> str:
        """Add an initializer holding ``array`` as ``dtype``; returns its name."""
        value = np.array(array, dtype=dtype, order="C")
        unique = self.name(name)
        self.initializers.append(numpy_helper.from_array(value, unique))
        return unique

    def ints(self, name: str, values: Sequence[int]) -> str:
        """An int64 vector initializer (shapes, axes)."""
        return self.weight(name, np.array(list(values), dtype=np.int64), np.int64)

    def rename(self, old: str, new: str) -> None:
        """Rename the value ``old`` to ``new`` wherever a node produces or reads it."""
        for node in self.nodes:
            for values in (node.input, node.output):
                for i, value in enumerate(values):
                    if value == old:
                        values[i] = new
        self._taken.add(new)
