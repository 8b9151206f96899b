"""What the training room uses of the editor: named parts, never the main window itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QDockWidget, QWidget

from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.collaborators import ProblemReporter, StatusSink
from app.ui.document_holder import DocumentHolder
from app.ui.editor import Editor
from app.ui.training.block_view import Scope


@dataclass(frozen=True)
class TrainingHost:
    """The editor parts the training controller and its helpers work with.

    Attributes
    ----------
    holder
        The current document (its ``changed`` and ``replaced`` signals, its validation).
    editor
        Where the device choice goes as an undoable setting edit.
    scene, view
        The canvas: gradient colours, badges, highlights, the legend in the view's corner.
    status, problems
        Status-bar texts and the dialog listing problems.
    docks
        Every dock by object name (the training room raises its own and the editor's).
    lock_editing
        ``lock_editing(locked, reason)``: refuse model edits while a run or step is under way.
    reveal_node
        Select a node alone and centre the view on it (where a NaN began).
    window
        The top-level widget whose Close holds a run and whose Hide stops it.
    scope
        Which block the canvas shows (None: the canvas shows the graph itself).
    """

    holder: DocumentHolder
    editor: Editor
    scene: GraphScene
    view: GraphView
    status: StatusSink
    problems: ProblemReporter
    docks: dict[str, QDockWidget]
    lock_editing: Callable[[bool, str], None]
    reveal_node: Callable[[str], None]
    window: QWidget
    scope: Scope | None = None
