"""How much memory a graph needs to train, and how much the machine has.

The estimate counts what training holds at once: every parameter four times (the weights, their
gradients and the two moment buffers of Adam, the largest optimizer) and every node output twice
(its value and its gradient) at the document's batch size, in the engine's float32. It leaves out
the dataset (already in memory when validation runs) and the interpreter itself, so it is a lower
bound: a graph whose estimate exceeds the machine's memory cannot train there.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.graph.document import Edge, GraphDocument
from app.graph.errors import GraphError
from app.graph.specs import Shape

Key = tuple[str, str]

ITEM_BYTES = 4
"""Bytes per value (the engine's default float32)."""
PARAMETER_COPIES = 4
"""Weights, gradients and Adam's two moment buffers."""
ACTIVATION_COPIES = 2
"""An output's value and its gradient."""


@dataclass(frozen=True)
class MemoryEstimate:
    """The memory a graph needs to train, in bytes.

    Attributes
    ----------
    parameter_bytes
        The trainable parameters themselves (one copy).
    activation_bytes
        Every node output at the document's batch size (one copy).
    total_bytes
        What training holds at once (see the module docstring).
    largest_node
        The node whose parameters and outputs take the most memory, or None without nodes.
    """

    parameter_bytes: int
    activation_bytes: int
    total_bytes: int
    largest_node: str | None


def estimate_memory(
    doc: GraphDocument,
    order: Iterable[str],
    shapes: Mapping[Key, Shape],
    wires: Mapping[Key, Edge],
) -> tuple[MemoryEstimate, dict[str, int]]:
    """The estimate for ``doc`` and the bytes each node holds (parameters and outputs, one copy).

    ``shapes`` and ``wires`` are validation's: nodes whose shapes are unknown count nothing.
    """
    batch = doc.training.batch_size
    per_node: dict[str, int] = {}
    parameters = activations = 0
    for node_id in order:
        node = doc.nodes[node_id]
        in_shapes = {}
        for port in node.spec.inputs:
            edge = wires.get((node_id, port.name))
            if edge is not None and (edge.src, edge.src_port) in shapes:
                in_shapes[port.name] = shapes[(edge.src, edge.src_port)]
        try:
            count = node.spec.param_count(node.params, in_shapes)
        except (GraphError, LookupError, TypeError, ValueError):
            count = 0  # a node whose shapes do not fit: validation reports it
        outputs = sum(
            _elements(shapes[(node_id, port.name)], batch)
            for port in node.spec.outputs
            if (node_id, port.name) in shapes
        )
        parameters += count
        activations += outputs
        per_node[node_id] = (count + outputs) * ITEM_BYTES
    largest = max(per_node, key=per_node.__getitem__, default=None)
    estimate = MemoryEstimate(
        parameter_bytes=parameters * ITEM_BYTES,
        activation_bytes=activations * ITEM_BYTES,
        total_bytes=(PARAMETER_COPIES * parameters + ACTIVATION_COPIES * activations) * ITEM_BYTES,
        largest_node=largest,
    )
    return estimate, per_node


def _elements(shape: Shape, batch: int) -> int:
    """Number of values in a tensor of ``shape`` when the batch dimension (None) is ``batch``."""
    return math.prod(batch if d is None else int(d) for d in shape)


def total_memory() -> int | None:
    """The machine's physical memory in bytes, or None when it cannot be read."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and size > 0:
            return int(pages * size)
    except (AttributeError, ValueError, OSError):
        pass
    if sys.platform == "win32":
        return _windows_total_memory()
    return None


def _windows_total_memory() -> int | None:
    """Total physical memory through ``GlobalMemoryStatusEx`` (Windows only)."""

    class _Status(ctypes.Structure):
        _fields_ = [
            ("length", ctypes.c_ulong),
            ("load", ctypes.c_ulong),
            ("total_phys", ctypes.c_ulonglong),
            ("avail_phys", ctypes.c_ulonglong),
            ("total_page", ctypes.c_ulonglong),
            ("avail_page", ctypes.c_ulonglong),
            ("total_virtual", ctypes.c_ulonglong),
            ("avail_virtual", ctypes.c_ulonglong),
            ("avail_extended", ctypes.c_ulonglong),
        ]

    status = _Status()
    status.length = ctypes.sizeof(_Status)
    windll = getattr(ctypes, "windll", None)
    if windll is None or not windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return int(status.total_phys)


def format_bytes(count: int) -> str:
    """``1.5 GB``, ``640 KB``, ``12 bytes`` (powers of 1000, as file managers show)."""
    if count < 1000:
        return f"{count} bytes"
    value = float(count)
    units = ("KB", "MB", "GB", "TB")
    for unit in units:
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value:,.1f} {units[-1]}"
