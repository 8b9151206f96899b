"""The Edit menu's block commands on the canvas selection: group, ungroup, make unique, open,
leave. Each is one undo step; each says in the status bar why it did nothing."""

from __future__ import annotations

from PySide6.QtGui import QAction

from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.blocks import mutations as bm
from app.graph.errors import GraphError
from app.graph.specs.blocks import BLOCK
from app.ui.canvas.scene import GraphScene
from app.ui.collaborators import StatusSink
from app.ui.editor import Editor

ACTIONS = (
    "actionGroup",
    "actionUngroup",
    "actionMakeUnique",
    "actionOpenBlock",
    "actionLeaveBlock",
)


def added_nodes(mutation: mu.Mutation) -> list[tuple[str, str]]:
    """``(node id, type id)`` of every node ``mutation`` adds, in order (inside batches and
    block edits too)."""
    if isinstance(mutation, mu.AddNode):
        return [(mutation.node.id, mutation.node.type_id)]
    if isinstance(mutation, mu.Batch):
        return [found for step in mutation.mutations for found in added_nodes(step)]
    if isinstance(mutation, bm.EditBlock):
        return added_nodes(mutation.mutation)
    return []


class BlockOps:
    """Group into Block, Ungroup, Make Unique, Open Block and Leave Block for the canvas.

    Parameters
    ----------
    editor : Editor
        Pushes the edits; its ``scope`` says which graph the selection is in.
    scene : GraphScene
        Gives the selection and selects what an edit made.
    status : StatusSink
        Says what happened, or why nothing did.
    """

    def __init__(self, editor: Editor, scene: GraphScene, status: StatusSink) -> None:
        self.editor, self.scene, self.status = editor, scene, status
        self.actions: dict[str, QAction] = {}

    # -- the commands ---------------------------------------------------------------------------
    def group(self) -> str | None:
        """Fold the selected nodes into a new block; the block node ends selected. Returns its
        id (None when refused)."""
        ids = self.scene.selected_node_ids()
        if not ids:
            self.status.show_message("Group: select the nodes to put in a block first")
            return None
        if self.editor.refuse_if_locked():
            return None
        try:
            mutation = grouping.group(self.editor.document, ids, self.editor.scope.definition)
        except GraphError as error:
            self.status.show_message(f"Cannot group: {error}")
            return None
        if self.editor.push(mutation, scoped=False) is not None:
            return None
        new = next((n for n, t in added_nodes(mutation) if t == BLOCK), None)
        self._select([new] if new else [])
        name = self._block_name(new) if new else "block"
        self.status.show_message(
            f"Grouped {len(ids)} node{'s' if len(ids) != 1 else ''} into block '{name}' "
            "(double-click it to open it; Ctrl+Shift+G ungroups)"
        )
        return new

    def ungroup(self) -> list[str]:
        """Put the selected block node's inside back in its place; those nodes end selected."""
        node_id = self._one_block("Ungroup")
        if node_id is None or self.editor.refuse_if_locked():
            return []
        name = self._block_name(node_id)
        try:
            mutation = grouping.ungroup(self.editor.document, node_id, self.editor.scope.definition)
        except GraphError as error:
            self.status.show_message(f"Cannot ungroup: {error}")
            return []
        if self.editor.push(mutation, scoped=False) is not None:
            return []
        ids = [n for n, _t in added_nodes(mutation)]
        self._select(ids)
        self.status.show_message(f"Ungrouped block '{name}' into {len(ids)} nodes")
        return ids

    def make_unique(self) -> str | None:
        """Give the selected block node its own copy of its block; returns the copy's name."""
        node_id = self._one_block("Make unique")
        if node_id is None or self.editor.refuse_if_locked():
            return None
        name = self._block_name(node_id)
        if self.uses(name) < 2:
            self.status.show_message(
                f"Block '{name}' is used only by this node: edits inside change nothing else"
            )
            return None
        try:
            mutation = grouping.make_unique(
                self.editor.document, node_id, self.editor.scope.definition
            )
        except GraphError as error:
            self.status.show_message(f"Cannot make unique: {error}")
            return None
        if self.editor.push(mutation, scoped=False) is not None:
            return None
        copy = self._block_name(node_id)
        self._select([node_id])
        self.status.show_message(
            f"This node now has its own block '{copy}' (the other uses of '{name}' are unchanged)"
        )
        return copy

    def open_selected(self) -> bool:
        """Open the one selected block node (Enter)."""
        node_id = self._one_block("Open")
        if node_id is None:
            return False
        self.editor.scope.enter(node_id)
        return True

    def leave(self) -> bool:
        """Show the graph around the open block (Alt+Up); False at the graph."""
        if not self.editor.scope.path:
            self.status.show_message("The graph is shown: there is no block to leave")
            return False
        self.editor.scope.up()
        return True

    # -- what applies now ---------------------------------------------------------------------
    def watch(self, actions: dict[str, QAction]) -> None:
        """Enable the block actions only when they apply, from now on."""
        self.actions = actions
        self.scene.selectionChanged.connect(self.update_actions)
        self.editor.scope.changed.connect(self.update_actions)
        self.editor.holder.changed.connect(lambda _event: self.update_actions())
        self.update_actions()

    def update_actions(self) -> None:
        """Group needs a selection; Ungroup, Make unique and Open one selected block node
        (Make unique: one whose block other nodes use too); Leave an open block."""
        try:
            ids = self.scene.selected_node_ids()
        except RuntimeError:  # the scene is being torn down
            return
        graph = self.editor.graph
        block = graph.nodes[ids[0]].block if len(ids) == 1 and ids[0] in graph.nodes else None
        enabled = {
            "actionGroup": bool(ids),
            "actionUngroup": block is not None,
            "actionMakeUnique": block is not None and self.uses(block.name) > 1,
            "actionOpenBlock": block is not None,
            "actionLeaveBlock": bool(self.editor.scope.path),
        }
        for name, on in enabled.items():
            action = self.actions.get(name)
            if action is not None:
                action.setEnabled(on)

    def uses(self, name: str) -> int:
        """How many block nodes use block ``name``."""
        from app.graph.blocks.definition import instance_count

        return instance_count(self.editor.document, name)

    # -- helpers --------------------------------------------------------------------------------
    def _one_block(self, verb: str) -> str | None:
        ids = self.scene.selected_node_ids()
        graph = self.editor.graph
        if len(ids) != 1 or graph.nodes[ids[0]].block is None:
            self.status.show_message(f"{verb}: select one block node first")
            return None
        return ids[0]

    def _block_name(self, node_id: str) -> str:
        block = self.editor.graph.nodes[node_id].block
        return block.name if block is not None else node_id

    def _select(self, ids: list[str]) -> None:
        self.scene.clearSelection()
        for node_id in ids:
            self.scene.node_item(node_id).setSelected(True)
