"""The node type registry: every :class:`NodeSpec` registered once, by its type id."""

from __future__ import annotations

from app.graph.errors import GraphError, UnknownNodeType
from app.graph.specs.base import Category, NodeSpec

REGISTRY: dict[str, NodeSpec] = {}
_LEGACY: dict[str, str] = {}
STRUCTURAL: dict[str, NodeSpec] = {}
"""Types that build blocks rather than networks (a block and its ports): never in the palette's
layer sections nor in :func:`all_specs`; :func:`get_spec` finds them."""


def register(spec: NodeSpec) -> NodeSpec:
    """Add ``spec`` to :data:`REGISTRY`; a type id (or legacy id) declared twice raises."""
    for type_id in (spec.type_id, *spec.legacy_ids):
        if type_id in REGISTRY or type_id in _LEGACY or type_id in STRUCTURAL:
            raise GraphError(f"node type {type_id!r} is declared twice")
    REGISTRY[spec.type_id] = spec
    for legacy in spec.legacy_ids:
        _LEGACY[legacy] = spec.type_id
    return spec


def register_structural(spec: NodeSpec) -> NodeSpec:
    """Add a block-building ``spec`` to :data:`STRUCTURAL`; a type id declared twice raises."""
    if spec.type_id in REGISTRY or spec.type_id in STRUCTURAL:
        raise GraphError(f"node type {spec.type_id!r} is declared twice")
    STRUCTURAL[spec.type_id] = spec
    return spec


def is_known_type(type_id: str) -> bool:
    """Whether :func:`get_spec` knows ``type_id`` (current, legacy or structural)."""
    return type_id in REGISTRY or type_id in _LEGACY or type_id in STRUCTURAL


def get_spec(type_id: str) -> NodeSpec:
    """The spec of ``type_id`` (legacy ids resolve too); raises :class:`UnknownNodeType`."""
    spec = (
        REGISTRY.get(type_id) or REGISTRY.get(_LEGACY.get(type_id, "")) or STRUCTURAL.get(type_id)
    )
    if spec is None:
        raise UnknownNodeType(type_id)
    return spec


def all_specs() -> list[NodeSpec]:
    """Every spec in palette order: by category, then in declaration order."""
    rank = {c: i for i, c in enumerate(Category)}
    return sorted(REGISTRY.values(), key=lambda s: rank[s.category])
