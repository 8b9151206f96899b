"""The main window's actions, menus and toolbar (object names from the testability contract).

Menus are tables of :class:`Spec` rows, so the actions, their shortcuts and the shortcut list in
the README come from one place (:func:`shortcut_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from app.ui import onnx_files
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.edit_ops import EditOps
from app.ui.files import FileController, example_files
from app.ui.layout import Direction

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance


@dataclass(frozen=True)
class ActionTargets:
    """What the editor's actions act on: ``host`` owns the actions, menus and toolbar; the
    rest are the parts the actions call."""

    host: QMainWindow
    files: FileController
    edit_ops: EditOps
    scene: GraphScene
    view: GraphView
    undo_stack: QUndoStack
    actions_by_name: dict[str, QAction]


@dataclass(frozen=True)
class Menus:
    """The menus and the toolbar :func:`build_actions` made (the training room adds to
    ``run`` and ``toolbar``; dock toggles go to ``docks``)."""

    file: QMenu
    recent: QMenu
    examples: QMenu
    export: QMenu
    edit: QMenu
    view: QMenu
    docks: QMenu
    run: QMenu
    help: QMenu
    toolbar: QToolBar


Keys = QKeySequence.StandardKey
Slot = Callable[[ActionTargets], Callable[..., object]]


def set_snap_to_grid(scene: GraphScene, on: bool) -> None:
    """Snap dragged nodes to the grid (remembered)."""
    scene.snap_to_grid = on
    QSettings().setValue("snapToGrid", on)


def set_shape_labels_visible(scene: GraphScene, on: bool) -> None:
    """Show or hide the shape labels on wires (remembered)."""
    scene.set_shape_labels_visible(on)
    QSettings().setValue("showShapes", on)


@dataclass(frozen=True)
class Spec:
    """One menu action: object name, text, what it calls, shortcuts, and whether its keys only
    work while the canvas has the focus (so Delete or F typed in a field never trigger it)."""

    name: str
    text: str
    slot: Slot
    keys: tuple[str | QKeySequence.StandardKey, ...] = ()
    canvas_only: bool = False
    checkable: bool = False


FILE_TOP = (
    Spec("actionNew", "&New", lambda w: w.files.new, (Keys.New,)),
    Spec("actionOpen", "&Open…", lambda w: w.files.open, (Keys.Open,)),
)
FILE_SAVE = (
    Spec("actionSave", "&Save", lambda w: w.files.save, (Keys.Save,)),
    Spec("actionSaveAs", "Save &As…", lambda w: lambda: w.files.save_as(), ("Ctrl+Shift+S",)),
)
EXPORT = (
    Spec(
        "actionExportPython",
        "&Python (engine)…",
        lambda w: lambda: w.files.export("python"),
        ("Ctrl+E",),
    ),
    Spec(
        "actionExportTorch",
        "Py&Torch…",
        lambda w: lambda: w.files.export("torch"),
        ("Ctrl+Shift+E",),
    ),
    Spec("actionExportOnnx", "&ONNX…", lambda w: lambda: onnx_files.export_onnx(w.files)),
)
IMPORT = (
    Spec(
        "actionImportOnnx",
        "&Import ONNX…",
        lambda w: lambda: onnx_files.import_onnx(w.files, w.host),
    ),
)
EDIT = (
    Spec("actionCut", "Cu&t", lambda w: w.edit_ops.cut, (Keys.Cut,), True),
    Spec("actionCopy", "&Copy", lambda w: w.edit_ops.copy, (Keys.Copy,), True),
    Spec("actionPaste", "&Paste", lambda w: w.edit_ops.paste, (Keys.Paste,), True),
    Spec("actionDuplicate", "D&uplicate", lambda w: w.edit_ops.duplicate, ("Ctrl+D",), True),
    Spec(
        "actionDelete",
        "&Delete",
        lambda w: w.edit_ops.delete_selection,
        ("Delete", "Backspace"),
        True,
    ),
    Spec(
        "actionSelectAll", "Select &All", lambda w: w.edit_ops.select_all, (Keys.SelectAll,), True
    ),
    None,
    Spec(
        "actionCopyPython", "Copy as P&ython", lambda w: w.files.copy_as_python, ("Ctrl+Shift+C",)
    ),
)
BLOCKS = (
    Spec("actionGroup", "&Group into Block", lambda w: w.edit_ops.blocks.group, ("Ctrl+G",)),
    Spec("actionUngroup", "U&ngroup Block", lambda w: w.edit_ops.blocks.ungroup, ("Ctrl+Shift+G",)),
    Spec("actionMakeUnique", "Make Block Uni&que", lambda w: w.edit_ops.blocks.make_unique),
    Spec(
        "actionOpenBlock",
        "&Open Block",
        lambda w: w.edit_ops.blocks.open_selected,
        ("Return", "Enter"),
        True,
    ),
    Spec("actionLeaveBlock", "&Leave Block", lambda w: w.edit_ops.blocks.leave, ("Alt+Up",)),
)
VIEW = (
    Spec(
        "actionZoomIn",
        "Zoom &In",
        lambda w: lambda: w.view.zoom_by(1.25),
        (Keys.ZoomIn, "Ctrl+=", "+"),
        True,
    ),
    Spec(
        "actionZoomOut",
        "Zoom &Out",
        lambda w: lambda: w.view.zoom_by(0.8),
        (Keys.ZoomOut, "-"),
        True,
    ),
    Spec(
        "actionResetZoom",
        "&Actual Size",
        lambda w: lambda: w.view.zoom_by(1 / w.view.zoom()),
        ("Ctrl+0",),
    ),
    Spec("actionFitView", "&Fit View", lambda w: w.view.fit_all, ("F",), True),
    Spec(
        "actionQuickAdd", "&Quick Add…", lambda w: w.view.open_quick_add_at_centre, ("Ctrl+Space",)
    ),
    None,
    Spec(
        "actionAutoLayout",
        "Auto-&layout (left to right)",
        lambda w: lambda: w.edit_ops.auto_layout(Direction.LEFT_TO_RIGHT),
        ("Ctrl+L",),
    ),
    Spec(
        "actionAutoLayoutVertical",
        "Auto-layout (top to &bottom)",
        lambda w: lambda: w.edit_ops.auto_layout(Direction.TOP_TO_BOTTOM),
        ("Ctrl+Shift+L",),
    ),
    Spec(
        "actionSnapToGrid",
        "&Snap to Grid",
        lambda w: lambda on: set_snap_to_grid(w.scene, on),
        (),
        False,
        True,
    ),
    Spec(
        "actionShowShapes",
        "Show &Shapes on Wires",
        lambda w: lambda on: set_shape_labels_visible(w.scene, on),
        ("Ctrl+Shift+H",),
        False,
        True,
    ),
)
# Canvas gestures without an action, for the shortcut list.
GESTURES = (
    ("Tab / double-click empty canvas", "Quick-add a node at the cursor"),
    ("Drag port to port", "Connect (a new wire replaces the one on that input)"),
    ("Drop a wire on empty canvas", "Quick-add a node that fits, wired in"),
    ("Drop a node on a wire", "Insert it into the wire"),
    ("Wheel", "Zoom around the cursor"),
    ("Middle drag / Space + drag", "Pan"),
    ("Double-click a node", "Open a block; any other node: edit its first parameter"),
    ("Esc / Backspace (nothing selected)", "Leave the open block (or click the breadcrumb)"),
    ("Right-click", "Menu for the node, wire or empty canvas under the cursor"),
)


def _keys(spec: Spec) -> list[QKeySequence]:
    keys: list[QKeySequence] = []
    for key in spec.keys:
        keys.extend(QKeySequence.keyBindings(key) if isinstance(key, Keys) else [QKeySequence(key)])
    return keys


def make_action(targets: ActionTargets, spec: Spec) -> QAction:
    """Create the action of ``spec`` on the host window and register it in ``actions_by_name``."""
    action = QAction(spec.text, targets.host)
    action.setObjectName(spec.name)
    action.setShortcuts(_keys(spec))
    if spec.canvas_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        targets.view.addAction(action)
    else:
        targets.host.addAction(action)
    slot = spec.slot(targets)
    if spec.checkable:
        action.setCheckable(True)
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    targets.actions_by_name[spec.name] = action
    return action


def add_actions(targets: ActionTargets, menu: QMenu, specs: tuple[Spec | None, ...]) -> None:
    """Add a table of actions (None = separator) to ``menu``."""
    for spec in specs:
        if spec is None:
            menu.addSeparator()
        else:
            menu.addAction(make_action(targets, spec))


def build_file_menu(targets: ActionTargets) -> tuple[QMenu, QMenu, QMenu, QMenu]:
    """File: New, Open, recent, Examples, Save, Save As, Export, Quit; returns the File, Open
    Recent, Examples and Export menus."""
    menu = targets.host.menuBar().addMenu("&File")
    add_actions(targets, menu, FILE_TOP)
    recent = menu.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: fill_recent_menu(recent, targets.files))
    fill_recent_menu(recent, targets.files)
    examples = menu.addMenu("E&xamples")
    for path in example_files():
        act = examples.addAction(path.stem.replace("_", " "))
        act.setObjectName(f"example_{path.stem}")
        act.triggered.connect(lambda _c=False, p=path: targets.files.open_example(p))
    examples.setEnabled(bool(example_files()))
    menu.addSeparator()
    add_actions(targets, menu, FILE_SAVE)
    add_actions(targets, menu, IMPORT)
    export = menu.addMenu("&Export")
    add_actions(targets, export, EXPORT)
    menu.addSeparator()
    add_actions(targets, menu, (Spec("actionQuit", "&Quit", lambda w: w.host.close, ("Ctrl+Q",)),))
    return menu, recent, examples, export


def fill_recent_menu(menu: QMenu, files: FileController) -> None:
    """Rebuild File > Open Recent from the remembered files."""
    menu.clear()
    recent = files.recent_files()
    for path in recent:
        act = menu.addAction(path)
        act.triggered.connect(lambda _c=False, p=path: files.open(p))
    menu.setEnabled(bool(recent))


def build_edit_menu(targets: ActionTargets) -> QMenu:
    """Edit: Undo/Redo (their text says what they will do), clipboard, delete, select all."""
    host, stack = targets.host, targets.undo_stack
    menu = host.menuBar().addMenu("&Edit")
    undo = stack.createUndoAction(host, "&Undo")
    undo.setObjectName("actionUndo")
    undo.setShortcuts(QKeySequence.keyBindings(Keys.Undo))
    redo = stack.createRedoAction(host, "&Redo")
    redo.setObjectName("actionRedo")
    redo.setShortcuts([*QKeySequence.keyBindings(Keys.Redo), QKeySequence("Ctrl+Y")])
    _keep_toolbar_text(undo, "Undo", stack.undoTextChanged)
    _keep_toolbar_text(redo, "Redo", stack.redoTextChanged)
    for act in (undo, redo):
        host.addAction(act)
        targets.actions_by_name[act.objectName()] = act
        menu.addAction(act)
    menu.addSeparator()
    add_actions(targets, menu, EDIT)
    menu.addSeparator()
    add_actions(targets, menu, BLOCKS)
    return menu


def _keep_toolbar_text(action: QAction, word: str, text_changed: SignalInstance) -> None:
    """The toolbar button keeps the one word (its width stays, the buttons after it do not
    jump on every edit); the menu item and the tooltip name the step, e.g. "Undo Add Linear"."""
    action.setIconText(word)

    def name_step(step: str) -> None:
        if not shiboken6.isValid(action):  # the stack outlives the action when the window closes
            return
        action.setToolTip(f"{word} {step}" if step else f"Nothing to {word.lower()}")

    text_changed.connect(name_step)
    name_step("")


def build_view_menu(targets: ActionTargets) -> tuple[QMenu, QMenu]:
    """View: zoom, Fit View, quick-add, auto-layout, grid snapping, shape labels, panels;
    returns the View menu and its Panels submenu (the dock toggles)."""
    menu = targets.host.menuBar().addMenu("&View")
    add_actions(targets, menu, VIEW)
    for name, on in (
        ("actionSnapToGrid", targets.scene.snap_to_grid),
        ("actionShowShapes", targets.scene.show_shape_labels),
    ):
        action = targets.actions_by_name[name]
        action.blockSignals(True)  # show the state; do not write it back to the settings
        action.setChecked(on)
        action.blockSignals(False)
    menu.addSeparator()
    return menu, menu.addMenu("&Panels")


def build_toolbar(targets: ActionTargets) -> QToolBar:
    """The main toolbar (the training room appends its run controls)."""
    bar = targets.host.addToolBar("Main")
    bar.setObjectName("toolbar")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    names = (
        "actionNew",
        "actionOpen",
        "actionSave",
        None,
        "actionUndo",
        "actionRedo",
        None,
        "actionFitView",
        "actionAutoLayout",
    )
    for name in names:
        if name is None:
            bar.addSeparator()
        else:
            bar.addAction(targets.actions_by_name[name])
    return bar


def build_actions(targets: ActionTargets) -> Menus:
    """Create every menu, action and the toolbar; the Run menu stays for the training room."""
    file, recent, examples, export = build_file_menu(targets)
    edit = build_edit_menu(targets)
    view, docks = build_view_menu(targets)
    run = targets.host.menuBar().addMenu("&Run")
    from app.ui.help_menu import build_help_menu  # it lists shortcut_table(), defined here

    help_menu = build_help_menu(targets.host, targets.actions_by_name)
    toolbar = build_toolbar(targets)
    return Menus(file, recent, examples, export, edit, view, docks, run, help_menu, toolbar)


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut (the training room's run controls
    from its own table) and every canvas gesture."""
    from app.ui.training.run_actions import shortcut_rows  # that room builds on this module

    rows = [("Ctrl+Z", "Undo (the Edit menu names the step)"), ("Ctrl+Shift+Z / Ctrl+Y", "Redo")]
    rows.append(("F1", "Keyboard shortcuts (this list)"))
    groups = (
        ("", FILE_TOP),
        ("", FILE_SAVE),
        ("Export ", EXPORT),
        ("", EDIT),
        ("", BLOCKS),
        ("", VIEW),
    )
    for prefix, specs in groups:
        for spec in specs:
            if spec is None or not spec.keys:
                continue
            keys = [
                QKeySequence.keyBindings(k)[0] if isinstance(k, Keys) else QKeySequence(k)
                for k in spec.keys
            ]
            text = " / ".join(dict.fromkeys(k.toString() for k in keys))
            rows.append((text, prefix + spec.text.replace("&", "").rstrip("…")))
    return rows + shortcut_rows() + list(GESTURES)
