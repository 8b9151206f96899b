"""Selection-based edits of the canvas: clipboard, delete, select all, auto-layout."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF

from app.graph.errors import GraphError
from app.ui import clipboard
from app.ui.block_ops import BlockOps
from app.ui.canvas.node_item import NODE_WIDTH
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.collaborators import ProblemReporter, StatusSink
from app.ui.document_holder import DocumentHolder
from app.ui.editor import Editor
from app.ui.layout import Direction, layered_positions

PASTE_OFFSET = 40.0
LABEL_MARGIN = 24.0  # auto-layout: free space around a wire's shape label, both sides


class EditOps:
    """Copy, cut, paste, duplicate, delete, select all and auto-layout of the canvas selection.

    Edits go through ``editor`` and act on the graph it shows (``editor.graph``: the
    document's own or an open block's inside); ``status`` and ``problems`` say what happened.
    The block commands are :attr:`blocks`.
    """

    def __init__(
        self,
        holder: DocumentHolder,
        editor: Editor,
        scene: GraphScene,
        view: GraphView,
        status: StatusSink,
        problems: ProblemReporter,
    ) -> None:
        self.holder, self.editor, self.scene, self.view = holder, editor, scene, view
        self.status, self.problems = status, problems
        self.blocks = BlockOps(editor, scene, status)

    def copy(self) -> bool:
        """Copy the selected nodes (and the wires among them) to the clipboard."""
        ids = self.scene.selected_node_ids()
        if not ids:
            self.status.show_message("Nothing selected to copy")
            return False
        clipboard.put_on_clipboard(clipboard.copy_fragment(self.editor.graph, ids))
        self.status.show_message(f"Copied {len(ids)} node{'s' if len(ids) != 1 else ''}")
        return True

    def cut(self) -> None:
        """Copy, then delete the selection (one undo step named Cut)."""
        if self.copy():
            self.delete_selection("Cut")

    def paste(self, at: QPointF | None = None) -> list[str]:
        """Paste the clipboard's nodes near the view centre (or ``at``); returns the new ids."""
        fragment = clipboard.read_clipboard()
        if fragment is None:
            self.status.show_message("The clipboard holds no nodegrad nodes")
            return []
        if at is None:
            at = self.view.centre_scene_pos() - QPointF(NODE_WIDTH / 2, 40)
        return self._add_fragment(fragment, at)

    def duplicate(self) -> list[str]:
        """Copy the selection in place, shifted a little (the system clipboard is untouched)."""
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        doc = self.editor.graph
        left = min(doc.nodes[n].position[0] for n in ids)
        top = min(doc.nodes[n].position[1] for n in ids)
        fragment = clipboard.copy_fragment(doc, ids)
        return self._add_fragment(fragment, QPointF(left + PASTE_OFFSET, top + PASTE_OFFSET))

    def _add_fragment(self, fragment: dict[str, Any], at: QPointF) -> list[str]:
        try:
            mutation, ids = clipboard.paste_mutation(
                self.editor.document, fragment, (at.x(), at.y()), self.editor.scope.definition
            )
        except GraphError as error:
            self.problems.show_problems("Cannot paste", str(error).splitlines())
            return []
        if self.editor.push(mutation, scoped=False) is not None:
            return []
        self.scene.clearSelection()
        for node_id in ids:
            self.scene.node_item(node_id).setSelected(True)
        return ids

    def delete_selection(self, verb: str = "Delete") -> None:
        """Delete the selected nodes (with their wires) and the selected wires; with nothing
        selected inside an open block, Backspace (or Delete) goes back out of it."""
        selected = self.scene.selected_node_ids(), self.scene.selected_edges()
        if not any(selected) and self.editor.scope.path and verb == "Delete":
            self.blocks.leave()
            return
        self.editor.delete(*selected, verb)

    def select_all(self) -> None:
        """Select every node."""
        for item in self.scene.node_items():
            item.setSelected(True)

    def auto_layout(self, direction: Direction = Direction.LEFT_TO_RIGHT) -> None:
        """Arrange the wired nodes in topological layers and the unwired ones in a grid
        beside them, as one undoable move."""
        doc = self.editor.graph
        if not doc.nodes:
            return
        self.holder.validate_now()  # current shape labels: the layers leave room for them
        sizes = {n: (NODE_WIDTH, self.scene.node_item(n).height) for n in doc.nodes}
        room = {
            n: max((e.label_room() for e in self.scene.edge_items_from(n)), default=0.0)
            + LABEL_MARGIN
            for n in doc.nodes
        }
        edges = [(e.src, e.dst) for e in doc.edges]
        first = next(iter(doc.nodes.values())).position
        positions = layered_positions(list(doc.nodes), edges, sizes, direction, first, room)
        changed = {n: p for n, p in positions.items() if tuple(doc.nodes[n].position) != p}
        self.editor.set_positions(changed, f"Auto-layout ({direction.value.lower()})")
        self.view.fit_all()
