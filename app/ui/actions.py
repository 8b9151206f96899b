"""The main window's actions, menus and toolbar (object names from the testability contract).

Menus are tables of :class:`Spec` rows, so the actions, their shortcuts and the shortcut list in
the README come from one place (:func:`shortcut_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from app.ui.files import example_files
from app.ui.layout import Direction

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from app.ui.main_window import MainWindow

Keys = QKeySequence.StandardKey
Slot = Callable[["MainWindow"], Callable[[], object]]


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
    Spec("actionSnapToGrid", "&Snap to Grid", lambda w: w.set_snap_to_grid, (), False, True),
    Spec(
        "actionShowShapes",
        "Show &Shapes on Wires",
        lambda w: w.set_shape_labels_visible,
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
    ("Double-click a node", "Edit its first parameter in the inspector"),
    ("Right-click", "Menu for the node, wire or empty canvas under the cursor"),
)


def _keys(spec: Spec) -> list[QKeySequence]:
    keys: list[QKeySequence] = []
    for key in spec.keys:
        keys.extend(QKeySequence.keyBindings(key) if isinstance(key, Keys) else [QKeySequence(key)])
    return keys


def make_action(window: MainWindow, spec: Spec) -> QAction:
    """Create the action of ``spec`` on ``window`` and register it in ``actions_by_name``."""
    action = QAction(spec.text, window)
    action.setObjectName(spec.name)
    action.setShortcuts(_keys(spec))
    if spec.canvas_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.view.addAction(action)
    else:
        window.addAction(action)
    slot = spec.slot(window)
    if spec.checkable:
        action.setCheckable(True)
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    window.actions_by_name[spec.name] = action
    return action


def add_actions(window: MainWindow, menu: QMenu, specs: tuple[Spec | None, ...]) -> None:
    """Add a table of actions (None = separator) to ``menu``."""
    for spec in specs:
        if spec is None:
            menu.addSeparator()
        else:
            menu.addAction(make_action(window, spec))


def build_file_menu(window: MainWindow) -> None:
    """File: New, Open, recent, Examples, Save, Save As, Export, Quit."""
    menu = window.menu_file = window.menuBar().addMenu("&File")
    add_actions(window, menu, FILE_TOP)
    window.menu_recent = menu.addMenu("Open &Recent")
    window.menu_recent.aboutToShow.connect(lambda: fill_recent_menu(window))
    fill_recent_menu(window)
    window.menu_examples = menu.addMenu("E&xamples")
    for path in example_files():
        act = window.menu_examples.addAction(path.stem.replace("_", " "))
        act.setObjectName(f"example_{path.stem}")
        act.triggered.connect(lambda _c=False, p=path: window.files.open_example(p))
    window.menu_examples.setEnabled(bool(example_files()))
    menu.addSeparator()
    add_actions(window, menu, FILE_SAVE)
    window.menu_export = menu.addMenu("&Export")
    add_actions(window, window.menu_export, EXPORT)
    menu.addSeparator()
    add_actions(window, menu, (Spec("actionQuit", "&Quit", lambda w: w.close, ("Ctrl+Q",)),))


def fill_recent_menu(window: MainWindow) -> None:
    """Rebuild File > Open Recent from the remembered files."""
    menu: QMenu = window.menu_recent
    menu.clear()
    recent = window.files.recent_files()
    for path in recent:
        act = menu.addAction(path)
        act.triggered.connect(lambda _c=False, p=path: window.files.open(p))
    menu.setEnabled(bool(recent))


def build_edit_menu(window: MainWindow) -> None:
    """Edit: Undo/Redo (their text says what they will do), clipboard, delete, select all."""
    menu = window.menu_edit = window.menuBar().addMenu("&Edit")
    undo = window.undo_stack.createUndoAction(window, "&Undo")
    undo.setObjectName("actionUndo")
    undo.setShortcuts(QKeySequence.keyBindings(Keys.Undo))
    redo = window.undo_stack.createRedoAction(window, "&Redo")
    redo.setObjectName("actionRedo")
    redo.setShortcuts([*QKeySequence.keyBindings(Keys.Redo), QKeySequence("Ctrl+Y")])
    _keep_toolbar_text(undo, "Undo", window.undo_stack.undoTextChanged)
    _keep_toolbar_text(redo, "Redo", window.undo_stack.redoTextChanged)
    for act in (undo, redo):
        window.addAction(act)
        window.actions_by_name[act.objectName()] = act
        menu.addAction(act)
    menu.addSeparator()
    add_actions(window, menu, EDIT)


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


def build_view_menu(window: MainWindow) -> None:
    """View: zoom, Fit View, quick-add, auto-layout, grid snapping, shape labels, panels."""
    menu = window.menu_view = window.menuBar().addMenu("&View")
    add_actions(window, menu, VIEW)
    for name, on in (
        ("actionSnapToGrid", window.scene.snap_to_grid),
        ("actionShowShapes", window.scene.show_shape_labels),
    ):
        action = window.actions_by_name[name]
        action.blockSignals(True)  # show the state; do not write it back to the settings
        action.setChecked(on)
        action.blockSignals(False)
    menu.addSeparator()
    window.menu_docks = menu.addMenu("&Panels")


def build_toolbar(window: MainWindow) -> None:
    """The main toolbar (the training room appends its run controls)."""
    bar = window.toolbar = window.addToolBar("Main")
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
            bar.addAction(window.actions_by_name[name])


def build_actions(window: MainWindow) -> None:
    """Create every menu, action and the toolbar; the Run menu stays for the training room."""
    build_file_menu(window)
    build_edit_menu(window)
    build_view_menu(window)
    window.menu_run = window.menuBar().addMenu("&Run")
    from app.ui.help_menu import build_help_menu  # it lists shortcut_table(), defined here

    build_help_menu(window)
    build_toolbar(window)


def shortcut_table() -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut (the training room's run controls
    from its own table) and every canvas gesture."""
    from app.ui.training.run_actions import shortcut_rows  # that room builds on this module

    rows = [("Ctrl+Z", "Undo (the Edit menu names the step)"), ("Ctrl+Shift+Z / Ctrl+Y", "Redo")]
    rows.append(("F1", "Keyboard shortcuts (this list)"))
    groups = (("", FILE_TOP), ("", FILE_SAVE), ("Export ", EXPORT), ("", EDIT), ("", VIEW))
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
