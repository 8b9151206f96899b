"""Node type registry: every node type is declared once, as data, in this package.

Import :data:`REGISTRY`, :func:`get_spec` and :func:`all_specs` from here; the modules per
category (``data``, ``layers``, ``activations``, ``recurrent``, ``ops``, ``losses``, and
``modern`` and ``attention`` for the layers of modern networks) register
their specs when this package is imported.
"""

from __future__ import annotations

from app.graph.specs import (  # noqa: F401
    activations,
    attention,
    blocks,
    data,
    layers,
    losses,
    modern,
    ops,
    recurrent,
)
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    PortSpec,
    Role,
    Shape,
    is_text,
    kinds_compatible,
    show_value,
)
from app.graph.specs.common import format_shape
from app.graph.specs.registry import REGISTRY, all_specs, get_spec, is_known_type, register

__all__ = [
    "REGISTRY",
    "Category",
    "CodeTemplate",
    "NodeSpec",
    "ParamSpec",
    "ParamType",
    "PortKind",
    "PortSpec",
    "Role",
    "Shape",
    "all_specs",
    "format_shape",
    "get_spec",
    "is_known_type",
    "is_text",
    "kinds_compatible",
    "register",
    "show_value",
]
