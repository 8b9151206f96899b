"""What a :class:`~app.graph.document.GraphDocument` tells its listeners after each change."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from app.graph.mutations import Edge


class EventKind(enum.Enum):
    """What changed in a document."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"
    NODE_MOVED = "node_moved"
    NODE_CHANGED = "node_changed"
    EDGE_ADDED = "edge_added"
    EDGE_REMOVED = "edge_removed"
    SETTINGS_CHANGED = "settings_changed"
    BLOCKS_CHANGED = "blocks_changed"
    RESET = "reset"


@dataclass(frozen=True)
class DocumentEvent:
    """One change told to listeners; ``name`` is the parameter, ``label``, setting or block
    (``BLOCKS_CHANGED``: a block was added, removed, renamed or edited inside) changed."""

    kind: EventKind
    node_id: str | None = None
    edge: Edge | None = None
    name: str | None = None


Listener = Callable[[DocumentEvent], None]
