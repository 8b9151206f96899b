"""The block library in the editor: the palette's "Blocks" section and "Save block to library".

:class:`BlockLibrary` lists the built-in blocks, the blocks saved in the user's folder
(``AppDataLocation/blocks``, :func:`user_blocks_folder`) and the blocks of the open document
in the palette, and inserts one (double-click, Enter, or a drag onto the canvas) as one undo
step in the graph the canvas shows. While a block is open the palette also offers its input and
output nodes. Reading and writing the files is :mod:`app.graph.blocks.library`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent

from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.library import (
    BUILTIN_FOLDER,
    BlockSource,
    LibraryEntry,
    document_source,
    insert_block,
    list_library,
    save_block,
)
from app.graph.errors import GraphError
from app.graph.events import DocumentEvent, EventKind
from app.graph.specs.blocks import BLOCK_INPUT, BLOCK_OUTPUT
from app.ui.canvas.node_item import HEADER_HEIGHT, NODE_WIDTH
from app.ui.editor import snap
from app.ui.palette import BLOCK_MIME, BlockEntry

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def user_blocks_folder() -> Path:
    """Where "Save block to library" writes: the ``blocks`` folder of the app's data folder."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "blocks"


def added_node_id(mutation: mu.Mutation) -> str | None:
    """The id of the node an :func:`~app.graph.blocks.library.insert_block` mutation adds."""
    if isinstance(mutation, mu.Batch):
        for step in reversed(mutation.mutations):
            found = added_node_id(step)
            if found is not None:
                return found
        return None
    if isinstance(mutation, bm.EditBlock):
        return added_node_id(mutation.mutation)
    return mutation.node.id if isinstance(mutation, mu.AddNode) else None


class BlockLibrary(QObject):
    """Keeps the palette's "Blocks" section and inserts and saves blocks.

    Parameters
    ----------
    window : MainWindow
        The editor window: its holder, editor (and the scope there), palette, scene and view.
    folder : Path or None
        The user's block folder (:func:`user_blocks_folder` when None).
    spot : callable or None
        Where a block inserted from the palette goes (scene coordinates).
    """

    def __init__(
        self,
        window: MainWindow,
        folder: Path | None = None,
        spot: Callable[[], QPointF] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.folder = user_blocks_folder() if folder is None else folder
        self._spot = spot or window.view.centre_scene_pos
        self.builtin: list[LibraryEntry] = []
        self.saved: list[LibraryEntry] = []
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        window.holder.changed.connect(self._on_change)
        window.holder.replaced.connect(self._refresh_timer.start)
        window.editor.scope.changed.connect(self._refresh_timer.start)
        window.node_palette.block_requested.connect(lambda key: self.insert(key))
        window.view.viewport().installEventFilter(self)
        self.save_action = QAction("Save Block to Library", window)
        self.save_action.setObjectName("actionSaveBlock")
        self.save_action.setStatusTip("Save the selected block node's block to your block library")
        self.save_action.triggered.connect(lambda _checked=False: self.save_selected())
        window.scene.selectionChanged.connect(self._update_action)
        window.editor.scope.changed.connect(self._update_action)
        self.reload()
        self._update_action()

    # -- what the palette shows ------------------------------------------------------------------
    def reload(self) -> None:
        """Read the built-in and saved block files again, then show them."""
        self.builtin = list_library(BUILTIN_FOLDER)
        self.saved = list_library(self.folder)
        self.refresh()

    def entries(self) -> list[BlockEntry]:
        """The blocks offered: built-in, saved (unreadable files with their error), the
        document's own."""
        found = [_entry("builtin", e, "Built-in") for e in self.builtin if e.source is not None]
        found += [_entry("saved", e, "Saved") for e in self.saved]
        for name, block in self.window.holder.document.blocks.items():
            count = len(block.inner_nodes())
            help_text = f"In this graph · {count} node{'s' if count != 1 else ''}"
            found.append(BlockEntry(f"graph:{name}", name, help_text))
        return found

    def refresh(self) -> None:
        """Show :meth:`entries` in the palette (and the port nodes while a block is open)."""
        ports = (BLOCK_INPUT, BLOCK_OUTPUT) if self.window.editor.scope.path else ()
        self.window.node_palette.set_blocks(self.entries(), ports)

    def _on_change(self, event: DocumentEvent) -> None:
        if event.kind in (EventKind.BLOCKS_CHANGED, EventKind.RESET):
            self._refresh_timer.start()

    def source(self, key: str) -> BlockSource | None:
        """The block of palette entry ``key`` (None: gone, or its file is unreadable)."""
        kind, _, name = key.partition(":")
        if kind == "graph":
            blocks = self.window.holder.document.blocks
            return document_source(self.window.holder.document, name) if name in blocks else None
        listed = self.builtin if kind == "builtin" else self.saved if kind == "saved" else []
        return next((e.source for e in listed if e.path.name == name), None)

    # -- inserting ---------------------------------------------------------------------------------
    def insert(self, key: str, point: QPointF | None = None) -> str | None:
        """Insert the block of entry ``key`` at ``point`` (else beside the selection or at the
        view centre) in the graph shown, as one undo step; returns the new node's id."""
        window = self.window
        source = self.source(key)
        if source is None:
            window.show_message("That block cannot be inserted: its file cannot be read")
            return None
        scope = window.editor.scope
        position = snap(self._spot() if point is None else point)
        try:
            mutation = insert_block(window.holder.document, source, position, scope.definition)
        except GraphError as error:
            window.show_message(f"Refused: {error}")
            return None
        node_id = added_node_id(mutation)
        if window.editor.push(mutation, scoped=False) is not None or node_id is None:
            return None
        window.scene.clearSelection()
        item = window.scene.node_item(node_id)
        item.setSelected(True)
        window.view.ensureVisible(item.body_rect(), 40, 40)
        return node_id

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Take block entries dragged from the palette onto the canvas."""
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            assert isinstance(event, (QDragEnterEvent, QDropEvent))
            if event.mimeData().hasFormat(BLOCK_MIME):
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
                if kind == QEvent.Type.Drop:
                    key = bytes(event.mimeData().data(BLOCK_MIME).data()).decode()
                    point = self.window.view.mapToScene(event.position().toPoint())
                    self.insert(key, point - QPointF(NODE_WIDTH / 2, HEADER_HEIGHT / 2))
                return True
        return super().eventFilter(watched, event)

    # -- saving ------------------------------------------------------------------------------------
    def selected_block(self) -> str | None:
        """The block name of the one selected node when it is a block node."""
        try:
            ids = self.window.scene.selected_node_ids()
        except RuntimeError:  # the scene sends selectionChanged while it drops its items
            return None
        graph = self.window.editor.scope.graph()
        node = graph.nodes.get(ids[0]) if len(ids) == 1 else None
        return node.block.name if node is not None and node.block is not None else None

    def _update_action(self) -> None:
        self.save_action.setEnabled(self.selected_block() is not None)

    def save_selected(self) -> Path | None:
        """Save the selected block node's block to the user's folder; the palette shows it."""
        window = self.window
        name = self.selected_block()
        if name is None:
            window.show_message("Select one block node to save its block to the library")
            return None
        try:
            path = save_block(window.holder.document, name, self.folder)
        except (OSError, GraphError) as error:
            window.show_message(f"Could not save block '{name}': {error}")
            return None
        self.reload()
        window.show_message(f"Saved block '{name}' to the library: {path}")
        return path


def _entry(kind: str, entry: LibraryEntry, where: str) -> BlockEntry:
    key = f"{kind}:{entry.path.name}"
    if entry.source is None:
        return BlockEntry(key, entry.name, "", error=entry.error)
    count = len(entry.source.definition.inner_nodes())
    about = entry.source.description or f"{count} node{'s' if count != 1 else ''}"
    return BlockEntry(key, entry.name, f"{where} · {about}")


def install(window: MainWindow) -> BlockLibrary:
    """Give ``window`` its block library: the palette's Blocks section, drops of blocks on the
    canvas, and Edit > Save Block to Library (``actionSaveBlock``)."""
    library = BlockLibrary(window, spot=window._free_spot_near_centre)
    window.menu_edit.addSeparator()
    window.menu_edit.addAction(library.save_action)
    window.actions_by_name["actionSaveBlock"] = library.save_action
    return library
