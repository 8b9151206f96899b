"""The training room's window on blocks: flat ids (what runs) told as the canvas shows them.

:class:`BlockView` keeps the flat graph of the held document (rebuilt after an edit) and reads
the canvas's block scope (which block is open), so gradient colours, highlights, NaN flags and
names land on the node the canvas shows: a block node for what runs inside it, the inner node
once the block is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from app.graph.blocks.flatten import SEPARATOR, FlatGraph, flatten
from app.graph.document import GraphDocument
from app.graph.run_view import ViewPath, flat_title, members, norms_in_view, place, shown_id
from app.ui.document_holder import DocumentHolder


class Scope(Protocol):
    """What the training room reads of the canvas's block scope (``app.ui.block_scope``)."""

    @property
    def path(self) -> tuple[str, ...]:
        """Block node ids from the graph inward; ``()`` is the graph."""
        ...

    def graph(self) -> GraphDocument:
        """The graph the canvas shows."""
        ...

    def reveal(self, flat_id: str) -> None:
        """Open the graph holding flat node ``flat_id``."""
        ...


class BlockView:
    """The held document's flat graph and the block path the canvas shows.

    Parameters
    ----------
    holder
        The document; its edits and replacement drop the cached flat graph.
    scope
        The canvas's block scope, or None (the canvas shows the graph itself).
    """

    def __init__(self, holder: DocumentHolder, scope: Scope | None = None) -> None:
        self.holder, self.scope = holder, scope
        self._flat: FlatGraph | None = None
        self._listeners: list[Callable[[], None]] = []
        holder.changed.connect(self._forget)
        holder.replaced.connect(self._forget)
        changed = getattr(scope, "changed", None)
        if changed is not None:
            changed.connect(self._on_scope_changed)

    def on_change(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after the canvas opened another block (or went back)."""
        self._listeners.append(fn)

    def _forget(self, *_: Any) -> None:
        self._flat = None

    def _on_scope_changed(self) -> None:
        for fn in list(self._listeners):
            fn()

    # -- reading ---------------------------------------------------------------------------
    @property
    def flat(self) -> FlatGraph:
        """The flat graph of the held document (cached until the next edit)."""
        if self._flat is None:
            self._flat = flatten(self.holder.document)
        return self._flat

    @property
    def path(self) -> ViewPath:
        """The block path the canvas shows (``()``: the graph)."""
        return tuple(self.scope.path) if self.scope is not None else ()

    def graph(self) -> GraphDocument:
        """The graph the canvas shows."""
        return self.scope.graph() if self.scope is not None else self.holder.document

    def shown(self, flat_id: str) -> str | None:
        """The node on the canvas that flat node ``flat_id`` is (or is inside); None when the
        canvas shows another part of the graph."""
        return shown_id(self.flat, flat_id, self.path)

    def norms(self, norms: Mapping[str, float]) -> dict[str, float]:
        """Flat gradient norms per node on the canvas (a block: the largest inside)."""
        return norms_in_view(norms, self.flat, self.path)

    def members(self) -> dict[str, list[str]]:
        """Node on the canvas -> the flat ids it stands for."""
        return members(self.flat, self.path)

    def flat_id(self, node_id: str) -> str:
        """The flat id of node ``node_id`` on the canvas (a block node: the node giving its
        first output, so its value can be shown)."""
        joined = SEPARATOR.join((*self.path, node_id))
        if joined in self.flat.document.nodes:
            return joined
        outputs = [src for (block, _), (src, _) in self.flat.outputs.items() if block == joined]
        return outputs[0] if outputs else joined

    def title(self, flat_id: str) -> str:
        """``Conv2d 'res1 › conv1'``: a flat node's type and where it was drawn."""
        return flat_title(self.holder.document, self.flat, flat_id)

    def place(self, flat_id: str) -> str:
        """``res1 › conv1``: where a flat node was drawn."""
        return place(self.holder.document, self.flat, flat_id)

    def told(self, text: str, flat_id: str) -> str:
        """``text`` (a run's message quoting ``'res1__conv1'``) naming the node by its place."""
        return text.replace(f"'{flat_id}'", f"'{self.place(flat_id)}'")

    def shown_title(self, node_id: str) -> str:
        """``Linear 'hidden'`` or ``residual 'res1'``: a node on the canvas as texts name it."""
        node = self.graph().nodes.get(node_id)
        if node is None:
            return f"'{node_id}'"
        return f"{node.spec.title} '{node.label or node_id}'"

    def document(self) -> GraphDocument:
        """The flat document (the held one when it has no blocks)."""
        return self.flat.document

    def reveal(self, flat_id: str) -> str | None:
        """Open the block that holds ``flat_id`` (when the canvas has a scope); returns the
        node on the canvas that shows it."""
        if self.scope is not None and self.shown(flat_id) != _last(self.flat, flat_id):
            self.scope.reveal(flat_id)
        return self.shown(flat_id)


def _last(flat: FlatGraph, flat_id: str) -> str:
    path = flat.origin.get(flat_id, (flat_id,))
    return path[-1]


__all__ = ["BlockView", "Scope"]
