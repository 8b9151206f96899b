"""The main window's actions, menus and toolbar (object names from the testability contract)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from app.ui.files import example_files
from app.ui.layout import Direction

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

Keys = QKeySequence.StandardKey


def _action(
    window: MainWindow,
    name: str,
    text: str,
    slot: Callable[..., object],
    shortcuts: tuple = (),
    tip: str = "",
    canvas_only: bool = False,
) -> QAction:
    """An action named ``name`` with shortcuts; ``canvas_only`` keys work while the canvas (or
    a menu) has the focus, so typing Delete or F in a field never triggers them."""
    action = QAction(text, window)
    action.setObjectName(name)
    keys: list[QKeySequence] = []
    for key in shortcuts:
        keys.extend(QKeySequence.keyBindings(key) if isinstance(key, Keys) else [QKeySequence(key)])
    action.setShortcuts(keys)
    if tip:
        action.setStatusTip(tip)
    if canvas_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.view.addAction(action)
    else:
        window.addAction(action)
    action.triggered.connect(lambda _checked=False: slot())
    window.actions_by_name[name] = action
    return action


def build_file_menu(window: MainWindow) -> None:
    """File: New, Open, recent, Examples, Save, Save As, Export, Quit."""
    files = window.files
    menu = window.menu_file = window.menuBar().addMenu("&File")
    menu.addAction(_action(window, "actionNew", "&New", files.new, (Keys.New,)))
    menu.addAction(_action(window, "actionOpen", "&Open…", files.open, (Keys.Open,)))
    window.menu_recent = menu.addMenu("Open &Recent")
    window.menu_recent.aboutToShow.connect(lambda: fill_recent_menu(window))
    fill_recent_menu(window)
    examples = window.menu_examples = menu.addMenu("E&xamples")
    for path in example_files():
        act = examples.addAction(path.stem.replace("_", " "))
        act.setObjectName(f"example_{path.stem}")
        act.triggered.connect(lambda _c=False, p=path: files.open_example(p))
    examples.setEnabled(bool(example_files()))
    menu.addSeparator()
    menu.addAction(_action(window, "actionSave", "&Save", files.save, (Keys.Save,)))
    menu.addAction(
        _action(window, "actionSaveAs", "Save &As…", lambda: files.save_as(), ("Ctrl+Shift+S",))
    )
    export = window.menu_export = menu.addMenu("&Export")
    export.addAction(
        _action(
            window,
            "actionExportPython",
            "&Python (engine)…",
            lambda: files.export("python"),
            ("Ctrl+E",),
        )
    )
    export.addAction(
        _action(
            window,
            "actionExportTorch",
            "Py&Torch…",
            lambda: files.export("torch"),
            ("Ctrl+Shift+E",),
        )
    )
    menu.addSeparator()
    menu.addAction(_action(window, "actionQuit", "&Quit", window.close, (Keys.Quit, "Ctrl+Q")))


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
    """Edit: Undo/Redo (showing what they will do), clipboard, delete, select all."""
    menu = window.menu_edit = window.menuBar().addMenu("&Edit")
    undo = window.undo_stack.createUndoAction(window, "&Undo")
    undo.setObjectName("actionUndo")
    undo.setShortcuts(QKeySequence.keyBindings(Keys.Undo))
    redo = window.undo_stack.createRedoAction(window, "&Redo")
    redo.setObjectName("actionRedo")
    redo.setShortcuts([*QKeySequence.keyBindings(Keys.Redo), QKeySequence("Ctrl+Y")])
    for act in (undo, redo):
        window.addAction(act)
        window.actions_by_name[act.objectName()] = act
        menu.addAction(act)
    menu.addSeparator()
    ops = window.edit_ops
    menu.addAction(_action(window, "actionCut", "Cu&t", ops.cut, (Keys.Cut,), canvas_only=True))
    menu.addAction(_action(window, "actionCopy", "&Copy", ops.copy, (Keys.Copy,), canvas_only=True))
    menu.addAction(
        _action(window, "actionPaste", "&Paste", ops.paste, (Keys.Paste,), canvas_only=True)
    )
    menu.addAction(
        _action(
            window, "actionDuplicate", "D&uplicate", ops.duplicate, ("Ctrl+D",), canvas_only=True
        )
    )
    menu.addAction(
        _action(
            window,
            "actionDelete",
            "&Delete",
            ops.delete_selection,
            ("Delete", "Backspace"),
            canvas_only=True,
        )
    )
    menu.addAction(
        _action(
            window,
            "actionSelectAll",
            "Select &All",
            ops.select_all,
            (Keys.SelectAll,),
            canvas_only=True,
        )
    )
    menu.addSeparator()
    menu.addAction(
        _action(
            window,
            "actionCopyPython",
            "Copy as P&ython",
            window.files.copy_as_python,
            ("Ctrl+Shift+C",),
        )
    )


def build_view_menu(window: MainWindow) -> None:
    """View: zoom, Fit View, auto-layout, grid snapping, shape labels, docks."""
    view = window.view
    menu = window.menu_view = window.menuBar().addMenu("&View")
    menu.addAction(
        _action(
            window,
            "actionZoomIn",
            "Zoom &In",
            lambda: view.zoom_by(1.25),
            (Keys.ZoomIn, "Ctrl+=", "+"),
            canvas_only=True,
        )
    )
    menu.addAction(
        _action(
            window,
            "actionZoomOut",
            "Zoom &Out",
            lambda: view.zoom_by(0.8),
            (Keys.ZoomOut, "-"),
            canvas_only=True,
        )
    )
    menu.addAction(
        _action(
            window,
            "actionResetZoom",
            "&Actual Size",
            lambda: view.zoom_by(1.0 / view.zoom()),
            ("Ctrl+0",),
        )
    )
    menu.addAction(
        _action(window, "actionFitView", "&Fit View", view.fit_all, ("F",), canvas_only=True)
    )
    menu.addSeparator()
    ops = window.edit_ops
    menu.addAction(
        _action(
            window,
            "actionAutoLayout",
            "Auto-&layout (left to right)",
            lambda: ops.auto_layout(Direction.LEFT_TO_RIGHT),
            ("Ctrl+L",),
        )
    )
    menu.addAction(
        _action(
            window,
            "actionAutoLayoutVertical",
            "Auto-layout (top to &bottom)",
            lambda: ops.auto_layout(Direction.TOP_TO_BOTTOM),
            ("Ctrl+Shift+L",),
        )
    )
    snap = _action(window, "actionSnapToGrid", "&Snap to Grid", lambda: None)
    snap.setCheckable(True)
    snap.setChecked(window.scene.snap_to_grid)
    snap.toggled.connect(window.set_snap_to_grid)
    shapes = _action(
        window, "actionShowShapes", "Show &Shapes on Wires", lambda: None, ("Ctrl+Shift+H",)
    )
    shapes.setCheckable(True)
    shapes.setChecked(window.scene.show_shape_labels)
    shapes.toggled.connect(window.set_shape_labels_visible)
    menu.addAction(snap)
    menu.addAction(shapes)
    menu.addSeparator()
    window.menu_docks = menu.addMenu("&Panels")
    menu.addAction(
        _action(
            window,
            "actionQuickAdd",
            "&Quick Add…",
            lambda: view.open_quick_add(view.viewport().rect().center()),
            ("Ctrl+Space",),
        )
    )


def build_toolbar(window: MainWindow) -> None:
    """The main toolbar (the training room appends its run controls)."""
    bar = window.toolbar = window.addToolBar("Main")
    bar.setObjectName("toolbar")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in (
        "actionNew",
        "actionOpen",
        "actionSave",
        None,
        "actionUndo",
        "actionRedo",
        None,
        "actionFitView",
        "actionAutoLayout",
    ):
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
    build_toolbar(window)
