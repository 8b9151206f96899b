"""MainWindow: the editor window, where the editor's parts are made and wired together.

Canvas in the middle, palette left, inspector right, problems below. The document, its file,
undo stack and validation live in the :class:`~app.ui.document_holder.DocumentHolder`; each
panel subscribes to the holder's signals itself. The window provides the dialogs and the
status bar (:mod:`app.ui.collaborators`) to the helpers it builds.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QPointF,
    QRectF,
    QSettings,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QUndoStack,
)
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from app.graph.document import GraphDocument
from app.graph.specs import all_specs
from app.graph.validate import ValidationResult
from app.ui import files as file_dialogs
from app.ui import style
from app.ui.actions import ActionTargets, build_actions
from app.ui.block_library import install as install_block_library
from app.ui.breadcrumb import BreadcrumbBar, above
from app.ui.canvas.node_item import NODE_WIDTH
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.document_holder import DocumentHolder
from app.ui.edit_ops import EditOps
from app.ui.editor import Editor
from app.ui.files import FileController
from app.ui.gui_gc import collect_on_gui_thread
from app.ui.inspector import Inspector
from app.ui.palette import Palette
from app.ui.problems import ProblemsPanel
from app.ui.recovery import Recovery, autosave_delay_ms
from app.ui.recovery_banner import RecoveryBanner
from app.ui.results import install as install_results
from app.ui.status_summary import StatusLine, StatusSummary
from app.ui.training import install as install_training

CHAIN_GAP = 100.0  # between a node added from the palette and the selected one it follows
LOCKED_WHILE_TRAINING = (
    "actionUndo",
    "actionRedo",
    "actionDelete",
    "actionCut",
    "actionPaste",
    "actionDuplicate",
    "actionAutoLayout",
    "actionAutoLayoutVertical",
    "actionNew",
    "actionOpen",
)


class MainWindow(QMainWindow):
    """The nodegrad editor window (``mainWindow``).

    Parameters
    ----------
    path : str or Path or None
        A ``.nodegrad`` file to open; None starts with an empty document. Building the window
        never opens a blocking dialog (a file that fails to load is reported without blocking).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        collect_on_gui_thread()  # widgets must never be freed on a worker thread (gui_gc.py)
        if not QCoreApplication.organizationName():
            QCoreApplication.setOrganizationName("nodegrad")
        self.setObjectName("mainWindow")
        self.setWindowIcon(style.app_icon())
        self.setAcceptDrops(True)
        self.holder = DocumentHolder(parent=self)
        self.actions_by_name: dict[str, QAction] = {}
        self.last_dialog: QMessageBox | None = None
        self.editor = Editor(self.holder, self)
        self.editor.message.connect(self.show_message)
        self.scene = GraphScene(self.holder, self, scope=self.editor.scope)
        self.view = GraphView(self.scene, self.editor, self)
        self.breadcrumb = BreadcrumbBar(self.editor.scope)
        self.view.actions_by_name = self.actions_by_name  # for its right-click menu
        self.recovery = Recovery()
        self.recovery.hold_lock()  # while this editor runs, its recovery file is not offered
        self.files = FileController(
            self.holder, dialogs=self, status=self, recovery=self.recovery, parent=self
        )
        self.view.files_dropped = self.files.open_dropped
        self.banner = RecoveryBanner(self.files)
        self.setCentralWidget(self.banner.wrap(above(self.breadcrumb, self.view)))
        self.edit_ops = EditOps(
            self.holder, self.editor, self.scene, self.view, status=self, problems=self
        )
        self._build_menus()
        self.edit_ops.blocks.watch(self.actions_by_name)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._connect()
        self.block_library = install_block_library(self)  # the palette's Blocks, Save Block
        self.update_title()
        self.holder.validate_now()
        self.banner.offer(self.recovery.left_behind())
        self.training = install_training(self)  # the training room: run controls, plots, …
        self.results_room = install_results(self)  # results, try-it, runs docks; keeps weights
        if path is not None:  # after the rooms: opens exactly as File > Open (weights included)
            self.files.open(path, ask=False)
        self._restore_settings()  # after the training docks exist, so their layout restores too

    # -- what the window shows ----------------------------------------------------------------
    @property
    def document(self) -> GraphDocument:
        """The current document (held by :attr:`holder`)."""
        return self.holder.document

    @property
    def undo_stack(self) -> QUndoStack:
        """The current document's undo history (held by :attr:`holder`)."""
        return self.holder.undo_stack

    @property
    def validation(self) -> ValidationResult:
        """The latest validation result (held by :attr:`holder`)."""
        return self.holder.validation

    # -- construction -------------------------------------------------------------------------
    def _build_menus(self) -> None:
        targets = ActionTargets(
            self,
            self.files,
            self.edit_ops,
            self.scene,
            self.view,
            self.holder.undo_stack,
            self.actions_by_name,
        )
        menus = build_actions(targets)
        self.menu_file, self.menu_recent, self.menu_examples = (
            menus.file,
            menus.recent,
            menus.examples,
        )
        self.menu_export, self.menu_edit, self.menu_view = menus.export, menus.edit, menus.view
        self.menu_docks, self.menu_run, self.menu_help = menus.docks, menus.run, menus.help
        self.toolbar = menus.toolbar

    def _build_docks(self) -> None:
        self.node_palette = Palette(all_specs())
        self.inspector = Inspector(self.editor)
        self.problems = ProblemsPanel(self.holder)
        for name, title, widget, area in (
            ("paletteDock", "Palette", self.node_palette, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("inspectorDock", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            ("problemsDock", "Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            self.add_dock(name, title, widget, area)
        self.status_summary = StatusSummary(self.holder)
        self.statusBar().addPermanentWidget(self.status_summary)
        self.status_line = StatusLine(self.statusBar(), self.status_summary)

    def add_dock(
        self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        """Wrap ``widget`` in a dock named ``name`` (its layout is remembered, View > Panels
        toggles it) and keep it in :attr:`docks`."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menu_docks.addAction(dock.toggleViewAction())
        self.docks[name] = dock
        return dock

    def _connect(self) -> None:
        holder, inspector = self.holder, self.inspector
        # the inspector shows the document's values once per batch of changes, not per event
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(inspector.refresh)
        holder.changed.connect(lambda _event: self._refresh_timer.start())
        holder.replaced.connect(lambda: inspector.show_node(None))
        holder.validated.connect(
            lambda result: inspector.update_summary(
                {n: result.param_counts.get(n) for n in holder.document.nodes}, result.memory
            )
        )
        holder.replaced.connect(self.view.fit_all)
        holder.file_changed.connect(self.update_title)
        # autosave a few seconds after the last edit (debounced; the delay is a setting)
        self._autosave_timer = QTimer(self, singleShot=True, interval=autosave_delay_ms())
        self._autosave_timer.timeout.connect(self.autosave)
        holder.changed.connect(lambda _event: self._autosave_timer.start())
        self.scene.selectionChanged.connect(self._on_selection_changed)
        self.node_palette.add_requested.connect(self._on_palette_add)
        self.problems.node_activated.connect(self.editor.scope.reveal)  # flat ids
        self.editor.scope.revealed.connect(self.reveal_node)
        self.editor.scope.changed.connect(self.view.fit_all)  # a block opened: show it whole
        self.view.node_double_clicked.connect(self._on_node_double_clicked)

    # -- document -------------------------------------------------------------------------------
    def replace_document(self, document: GraphDocument, path: Path | None) -> None:
        """Show another document (as New/Open do): fresh undo history, validation, inspector."""
        self.holder.open_document(document, path)

    def validate_now(self) -> ValidationResult:
        """Validate the document now and show the result everywhere (badges, wires, problems)."""
        return self.holder.validate_now()

    def _on_selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        self.inspector.show_node(ids[0] if len(ids) == 1 else None)

    def _on_palette_add(self, type_id: str) -> None:
        node_id = self.editor.add_node(type_id, self._free_spot_near_centre())
        if node_id is not None:
            self.scene.clearSelection()
            item = self.scene.node_item(node_id)
            item.setSelected(True)
            self.view.ensureVisible(item.body_rect(), 40, 40)

    def _free_spot_near_centre(self) -> QPointF:
        """Where a node added from the palette goes: right of the one selected node (so adding
        one node after another builds a chain left to right, as the examples read), else the
        view centre; moved down (or down-right) past the nodes already there."""
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            beside = self.scene.node_item(selected[0]).body_rect()
            spot, step = QPointF(beside.right() + CHAIN_GAP, beside.top()), QPointF(0, 40)
        else:
            spot = self.view.centre_scene_pos() - QPointF(NODE_WIDTH / 2, 40)
            step = QPointF(40, 40)
        taken = [item.body_rect() for item in self.scene.node_items()]
        for _ in range(50):
            probe = QRectF(spot.x(), spot.y(), NODE_WIDTH, 80).adjusted(-20, -20, 20, 20)
            if not any(probe.intersects(rect) for rect in taken):
                break
            spot += step
        return spot

    def _on_node_double_clicked(self, node_id: str) -> None:
        """Open a block node; for any other node, show it in the inspector and put the cursor
        in its first field."""
        if self.editor.scope.is_block(node_id):
            self.editor.scope.enter(node_id)
            return
        self.scene.clearSelection()
        self.scene.node_item(node_id).setSelected(True)
        self.docks["inspectorDock"].show()
        self.docks["inspectorDock"].raise_()
        self.inspector.focus_first_field()

    def reveal_node(self, node_id: str) -> None:
        """Select node ``node_id`` of the graph shown alone and scroll until it and its ports
        are in view (a node inside a block: ``editor.scope.reveal(flat_id)`` opens the block,
        then calls this)."""
        if node_id not in self.scene.document.nodes:
            return
        item = self.scene.node_item(node_id)
        self.scene.clearSelection()
        item.setSelected(True)
        self.view.reveal_item(item)

    def set_editing_locked(self, locked: bool, reason: str = "") -> None:
        """While locked (training runs) model edits are refused with a status message; the
        learning rate and the epoch count stay editable (a running session takes them)."""
        self.editor.set_locked(locked, reason)
        self.node_palette.setEnabled(not locked)
        self.inspector.set_locked(locked)
        for name in LOCKED_WHILE_TRAINING:
            self.actions_by_name[name].setEnabled(not locked)
        if not locked:
            self.actions_by_name["actionUndo"].setEnabled(self.undo_stack.canUndo())
            self.actions_by_name["actionRedo"].setEnabled(self.undo_stack.canRedo())

    # -- title, messages, dialogs ---------------------------------------------------------------
    def update_title(self) -> None:
        """``name[*] — nodegrad``; the ``*`` shows while there are unsaved changes."""
        self.setWindowTitle(f"{self.holder.display_name()}[*] — nodegrad")
        self.setWindowModified(self.holder.is_modified())

    def show_message(self, text: str, timeout_ms: int = 6000) -> None:
        """A status-bar message (shortened in the middle when too long to show whole)."""
        self.status_line.show_message(text, timeout_ms)

    def show_problems(self, title: str, problems: list[str], after: str = "") -> QMessageBox:
        """One non-blocking dialog listing every problem (then ``after``, a closing line)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, title, QMessageBox.StandardButton.Ok, self
        )
        box.setObjectName("problemsDialog")
        box.setStyleSheet(
            "QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 460px; }"
        )
        shown = problems[:30] + ([f"… and {len(problems) - 30} more"] if len(problems) > 30 else [])
        box.setInformativeText("\n".join([*(f"• {p}" for p in shown), *([after] if after else [])]))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_dialog = box
        self.show_message(title)
        return box

    def show_notice(self, title: str, text: str) -> QMessageBox:
        """One non-blocking dialog telling ``text`` (e.g. why an export wrote its blocks flat)."""
        box = QMessageBox(
            QMessageBox.Icon.Information, title, title, QMessageBox.StandardButton.Ok, self
        )
        box.setObjectName("noticeDialog")
        box.setStyleSheet("QLabel#qt_msgbox_informativelabel { min-width: 460px; }")
        box.setInformativeText(text)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_dialog = box
        return box

    def ask_save_changes(self) -> str:
        """Ask whether to save unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = QMessageBox.question(
            self, "Unsaved changes", "The graph has unsaved changes. Save them?", buttons
        )
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(answer, "cancel")

    def ask_open_path(self) -> str:
        """Ask which graph to open (empty when cancelled)."""
        return file_dialogs.ask_open_path(self)

    def ask_save_path(self, title: str, file_filter: str, suffix: str) -> str:
        """Ask where to save (empty when cancelled)."""
        return file_dialogs.ask_save_path(self, title, file_filter, suffix)

    # -- autosave and settings ------------------------------------------------------------------
    def autosave(self) -> None:
        """Write the recovery file while there are unsaved changes (remove it when none)."""
        if not self.holder.is_modified():
            self.recovery.clear()
            return
        original = str(self.holder.path) if self.holder.path else None
        try:
            self.recovery.write(self.holder.document, original)
        except OSError as error:
            self.show_message(f"Autosave failed: {error}")

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            screen = QGuiApplication.primaryScreen()
            area = screen.availableGeometry() if screen else None
            if area is not None and area.width() > 800:
                self.resize(int(area.width() * 0.85), int(area.height() * 0.85))
            else:
                self.resize(1400, 860)
        state = settings.value("windowState")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            self.resizeDocks(
                [self.docks["paletteDock"], self.docks["inspectorDock"]],
                [250, 330],
                Qt.Orientation.Horizontal,
            )
            self.resizeDocks([self.docks["problemsDock"]], [190], Qt.Orientation.Vertical)
        for name, setter in (
            ("snapToGrid", "actionSnapToGrid"),
            ("showShapes", "actionShowShapes"),
        ):
            value = settings.value(name)
            if value is not None:
                self.actions_by_name[setter].setChecked(value in (True, "true"))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask to save, remember the layout, remove the recovery file, stop listening."""
        if not self.files.maybe_save():
            event.ignore()
            return
        settings = QSettings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("windowState", self.saveState())
        self._autosave_timer.stop()
        self.recovery.clear()
        self.recovery.release_lock()
        self.holder.detach()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system switching between light and dark."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            style.refresh_theme()
            self.scene.invalidate()
            for item in self.scene.items():
                item.update()  # also drops the nodes' cached pixmaps, painted in the old colours
        super().changeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept ``.nodegrad`` files dropped on the window."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open a dropped ``.nodegrad`` file."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.files.open_dropped(paths)
        event.acceptProposedAction()
