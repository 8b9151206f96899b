"""The node type registry: every :class:`NodeSpec` registered once, by its type id."""

from __future__ import annotations

from app.graph.errors import GraphError, UnknownNodeType
from app.graph.specs.base import Category, NodeSpec

REGISTRY: dict[str, NodeSpec] = {}
_LEGACY: dict[str, str] = {}


def register(spec: NodeSpec) -> NodeSpec:
    """Add ``spec`` to :data:`REGISTRY`; a type id (or legacy id) declared twice raises."""
    for type_id in (spec.type_id, *spec.legacy_ids):
        if type_id in REGISTRY or type_id in _LEGACY:
            raise GraphError(f"node type {type_id!r} is declared twice")
    REGISTRY[spec.type_id] = spec
    for legacy in spec.legacy_ids:
        _LEGACY[legacy] = spec.type_id
    return spec


def get_spec(type_id: str) -> NodeSpec:
    """The spec of ``type_id`` (legacy ids resolve too); raises :class:`UnknownNodeType`."""
    spec = REGISTRY.get(type_id) or REGISTRY.get(_LEGACY.get(type_id, ""))
    if spec is None:
        raise UnknownNodeType(type_id)
    return spec


def all_specs() -> list[NodeSpec]:
    """Every spec in palette order: by category, then in declaration order."""
    rank = {c: i for i, c in enumerate(Category)}
    return sorted(REGISTRY.values(), key=lambda s: rank[s.category])
