"""BlockScope: which graph the canvas shows, the document's own or the inside of a block.

The scope is a path of block node ids from the graph inward (``()`` is the graph itself). Edits
made in the graph shown go through :meth:`BlockScope.wrap`, so an edit inside a block is an
``EditBlock`` of the top-level document and every edit shares the one undo stack. The scope
follows the document: it falls back to the deepest part of its path that still exists when a
block node goes (undo of a group, a delete), and to the graph when the document is replaced.
Undo and redo show the graph where the edit was made (the path its command recorded), so the
user sees what changed.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal

from app.graph.blocks.flatten import SEPARATOR
from app.graph.blocks.grouping import in_scope
from app.graph.document import DocumentEvent, GraphDocument
from app.graph.mutations import Mutation
from app.graph.specs.blocks import BLOCK_INPUT
from app.ui.commands import MutationCommand
from app.ui.document_holder import DocumentHolder

ScopePath = tuple[str, ...]
_REPETITION = re.compile(r"(.+)_r(\d+)")


class BlockScope(QObject):
    """Which graph the canvas shows: the document's own (path ``()``) or the inside of a block.

    Signals
    -------
    changed
        The open path changed, or the document was replaced: whoever shows the graph rebuilds.
    graph_event(DocumentEvent)
        A change of the graph shown (the top-level document's events at the graph, the block
        body's inside a block), in the order they happen.
    revealed(str)
        :meth:`reveal` opened the graph holding this node id; select it.

    Parameters
    ----------
    holder : DocumentHolder
        Holds the document; the scope is its Qt child (:meth:`for_holder` finds it).
    """

    changed = Signal()
    graph_event = Signal(object)
    revealed = Signal(str)

    def __init__(self, holder: DocumentHolder) -> None:
        super().__init__(holder)
        self.holder = holder
        self._path: ScopePath = ()
        self._bound: GraphDocument | None = None  # the block body listened to, if any
        self._index = holder.undo_stack.index()
        holder.changed.connect(self._on_top_event)
        holder.replaced.connect(self._on_replaced)
        holder.undo_stack.indexChanged.connect(_follow_undo(weakref.ref(self)))

    @classmethod
    def for_holder(cls, holder: DocumentHolder) -> BlockScope:
        """The scope of ``holder`` (made on first use): one per document holder."""
        found = holder.findChild(BlockScope)
        return found if isinstance(found, BlockScope) else cls(holder)

    # -- where the canvas is -----------------------------------------------------------------
    @property
    def path(self) -> ScopePath:
        """Block node ids from the graph inward; ``()`` is the graph."""
        return self._path

    @property
    def definition(self) -> str | None:
        """The name of the block definition whose inside is shown (None: the graph)."""
        if not self._path:
            return None
        graphs = self._resolve(self._path)
        return graphs[-1].owner if graphs else None

    def graph(self) -> GraphDocument:
        """The document shown: the held document or a block's inside."""
        graphs = self._resolve(self._path)
        return graphs[-1] if graphs else self.holder.document

    def names(self) -> list[str]:
        """What the breadcrumb shows for each level: ``Graph``, then each block node's title
        (its label, else its block's name)."""
        graphs = self._resolve(self._path) or [self.holder.document]
        crumbs = ["Graph"]
        for graph, node_id in zip(graphs, self._path, strict=False):
            node = graph.nodes.get(node_id)
            crumbs.append(node.title if node is not None else node_id)
        return crumbs

    def flat_id(self, node_id: str) -> str:
        """The flat id of node ``node_id`` of the graph shown (``res1__conv1``)."""
        return SEPARATOR.join((*self._path, node_id))

    def is_block(self, node_id: str) -> bool:
        """Whether ``node_id`` is a block node of the graph shown."""
        node = self.graph().nodes.get(node_id)
        return node is not None and node.block is not None

    # -- moving ------------------------------------------------------------------------------
    def open(self, path: ScopePath) -> None:
        """Show the inside of the block at ``path`` (``()``: the graph).

        Raises
        ------
        ValueError
            When a step of ``path`` is not a block node of the graph before it.
        """
        path = tuple(path)
        if self._resolve(path) is None:
            raise ValueError(f"There is no block at {' › '.join(path) or 'the graph'}")
        self._set(path)

    def enter(self, node_id: str) -> None:
        """Open block node ``node_id`` of the graph shown (ValueError when it is not one)."""
        self.open((*self._path, node_id))

    def up(self, depth: int = -1) -> None:
        """Back out: keep the first ``depth`` steps of the path (``-1``: one level up, ``0``:
        the graph), as Python slices count."""
        self.open(self._path[:depth])

    def reveal(self, flat_id: str) -> None:
        """Open the graph that holds the node of flat id ``flat_id`` and ask to select it
        (:attr:`revealed`); nothing happens for an id found nowhere."""
        found = self.locate(flat_id)
        if found is None:
            return
        path, node_id = found
        if path != self._path:
            self._set(path)
        self.revealed.emit(node_id)

    def locate(self, flat_id: str) -> tuple[ScopePath, str] | None:
        """Where the node of flat id ``flat_id`` is drawn: the block path and its own id
        (a repetition ``res1_r2`` counts as its block node ``res1``)."""
        return _walk(self.holder.document, flat_id.split(SEPARATOR), ())

    def source_key(self, node_id: str, port: str) -> tuple[str, str] | None:
        """The flat ``(id, port)`` whose shape the wire from ``node_id.port`` of the graph
        shown carries: a block input passes on what the outside wires into the block (None
        when nothing is)."""
        graphs = self._resolve(self._path) or [self.holder.document]
        depth = len(graphs) - 1
        while depth > 0:
            node = graphs[depth].nodes.get(node_id)
            if node is None or node.type_id != BLOCK_INPUT:
                break
            edge = graphs[depth - 1].input_edge(self._path[depth - 1], node_id)
            if edge is None:
                return None
            node_id, port, depth = edge.src, edge.src_port, depth - 1
        return SEPARATOR.join((*self._path[:depth], node_id)), port

    def wrap(self, mutation: Mutation) -> Mutation:
        """``mutation`` of the graph shown, as the top-level document applies it."""
        return in_scope(self.definition, mutation)

    # -- following the document ----------------------------------------------------------------
    def _resolve(self, path: ScopePath) -> list[GraphDocument] | None:
        graph = self.holder.document
        graphs = [graph]
        for node_id in path:
            node = graph.nodes.get(node_id)
            if node is None or node.block is None:
                return None
            graph = node.block.body
            graphs.append(graph)
        return graphs

    def _set(self, path: ScopePath) -> None:
        self._path = path
        graphs = self._resolve(path)
        self._bind(graphs[-1] if graphs and path else None)
        self.changed.emit()

    def _bind(self, body: GraphDocument | None) -> None:
        if body is self._bound:
            return
        if self._bound is not None:
            self._bound.remove_listener(self._on_body_event)
        self._bound = body
        if body is not None:
            body.add_listener(self._on_body_event)

    def _on_replaced(self) -> None:
        self._path = ()
        self._bind(None)
        self.changed.emit()

    def _on_top_event(self, event: DocumentEvent) -> None:
        if not self._path:
            self.graph_event.emit(event)
            return
        graphs = self._resolve(self._path)
        if graphs is None:  # the open block went: show the deepest level that is left
            keep = len(self._path) - 1
            while self._resolve(self._path[:keep]) is None:
                keep -= 1
            self._set(self._path[:keep])
        elif graphs[-1] is not self._bound:  # the block node now uses another definition
            self._set(self._path)

    def _on_undo_index(self, index: int) -> None:
        """Undo or redo: show the graph the command's edit was made in, if it still exists."""
        before, self._index = self._index, index
        if index == before or not shiboken6.isValid(self.holder.undo_stack):  # going away
            return
        command = self.holder.undo_stack.command(index if index < before else index - 1)
        path = command.path if isinstance(command, MutationCommand) else None
        if path is not None and path != self._path and self._resolve(path) is not None:
            self._set(path)

    def _on_body_event(self, event: DocumentEvent) -> None:
        if not shiboken6.isValid(self):  # the window went away without closing
            if self._bound is not None:
                self._bound.remove_listener(self._on_body_event)
            return
        self.graph_event.emit(event)


def _follow_undo(scope: weakref.ref[BlockScope]) -> Callable[[int], None]:
    """The undo stack's index listener for ``scope``; it outlives neither the scope nor its Qt
    object (the stack clears itself, emitting, while the holder's children go)."""

    def follow(index: int) -> None:
        alive = scope()
        if alive is not None and shiboken6.isValid(alive):
            alive._on_undo_index(index)

    return follow


def _walk(graph: GraphDocument, parts: list[str], path: ScopePath) -> tuple[ScopePath, str] | None:
    """Find ``parts`` (a flat id split at the separator) in ``graph``; ids may hold the
    separator themselves, so the longest id that matches is tried first."""
    for i in range(len(parts), 0, -1):
        head, rest = SEPARATOR.join(parts[:i]), parts[i:]
        node_id = head if head in graph.nodes else _repeated_block(graph, head)
        if node_id is None:
            continue
        if not rest:
            return path, node_id
        block = graph.nodes[node_id].block
        if block is not None:
            found = _walk(block.body, rest, (*path, node_id))
            if found is not None:
                return found
    return None


def _repeated_block(graph: GraphDocument, step: str) -> str | None:
    """The block node whose repetition ``step`` is (``res1_r2`` -> ``res1``), or None."""
    match = _REPETITION.fullmatch(step)
    if match is None:
        return None
    node = graph.nodes.get(match.group(1))
    return node.id if node is not None and node.block is not None else None
