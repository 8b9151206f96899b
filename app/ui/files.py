"""File handling of the main window: New, Open, Save, Save As, recent files, examples, export.

Dialogs that need an answer (which file, save changes?) are methods of the window that tests can
replace; failures are shown in one non-blocking dialog listing every problem, and the current
document is kept.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError, GraphError

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

FILE_FILTER = "nodegrad graphs (*.nodegrad);;All files (*)"
MAX_RECENT = 8
KEPT = "Nothing was changed: the graph you had stays open."
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def is_example(path: Path) -> bool:
    """Whether ``path`` is one of the bundled examples."""
    return path.resolve().parent == EXAMPLES_DIR.resolve()


def example_files() -> list[Path]:
    """The bundled ``examples/*.nodegrad`` graphs, sorted by name."""
    return sorted(EXAMPLES_DIR.glob("*.nodegrad")) if EXAMPLES_DIR.is_dir() else []


class FileController(QObject):
    """Knows the current file and moves documents between disk and the window."""

    recent_changed = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.example: str | None = None

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Recently opened or saved files that still exist, newest first."""
        value = QSettings().value("recentFiles", [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        paths = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        QSettings().setValue("recentFiles", paths[:MAX_RECENT])
        self.recent_changed.emit()

    # -- new / open -----------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask whether to save unsaved changes; False when the user cancels."""
        if self.window.undo_stack.isClean():
            return True
        answer = self.window.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        """Start an empty document (after asking to save)."""
        if not self.maybe_save():
            return False
        self.window.replace_document(GraphDocument(), None)
        return True

    def open(self, path: str | Path | None = None, ask: bool = True) -> bool:
        """Open ``path`` (or ask for one); on errors show them all and keep the document."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            path = self.window.ask_open_path()
            if not path:
                return False
        path = Path(path)
        try:
            document = io.load(path)
        except FileFormatError as error:
            self.window.show_problems(f"Could not open {path.name}", error.problems, KEPT)
            return False
        if is_example(path):  # a copy: saving asks for a new name, the bundled file stays
            self.window.replace_document(document, None)
            self.example = path.stem
            self.window.update_title()
        else:
            self.window.replace_document(document, path)
            self._remember(path)
        self._load_weights(path)
        self.window.show_message(f"Opened {path}")
        return True

    def _training(self) -> Any:
        """The training room's controller, when it is installed."""
        return getattr(self.window, "training", None)

    def _load_weights(self, path: Path) -> None:
        """Hand the weights saved beside ``path`` (if any) to the training controller."""
        weights_file = io.find_weights(path)  # .safetensors, else a legacy .npz
        training = self._training()
        if training is None or weights_file is None:
            return
        try:
            training.set_weights(io.load_weights(weights_file))
        except FileFormatError as error:
            self.window.show_problems(f"Could not load {weights_file.name}", error.problems)

    def _save_weights(self, path: Path) -> None:
        """Write the trained weights beside the graph (nothing when there are none)."""
        training = self._training()
        weights = training.weights() if training is not None else None
        if weights:
            io.save_weights(weights, io.weights_path(path))

    def open_example(self, path: Path) -> bool:
        """Open a bundled example as an untitled copy (saving asks for a new name)."""
        return self.open(path)

    def display_name(self) -> str:
        """The name the title shows: the file, ``name (example)`` or ``Untitled``."""
        if self.path is not None:
            return self.path.name
        return f"{self.example} (example)" if self.example else "Untitled"

    def open_dropped(self, paths: list[str]) -> None:
        """Open the first ``.nodegrad`` file dropped on the window."""
        graphs = [p for p in paths if p.endswith(".nodegrad")]
        if graphs:
            self.open(graphs[0])
        elif paths:
            self.window.show_message("Only .nodegrad files can be opened")

    # -- save -----------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current file (Save As when there is none)."""
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save under a new name (asked for when ``path`` is None)."""
        if path is None:
            path = self.window.ask_save_path("Save graph", FILE_FILTER, ".nodegrad")
            if not path:
                return False
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        try:
            io.save(self.window.document, path)
            self._save_weights(path)
        except (OSError, GraphError) as error:
            self.window.show_problems(f"Could not save {path.name}", [str(error)])
            return False
        self.path, self.example = path, None
        self._move_base_dir(path)
        self.window.undo_stack.setClean()
        self.window.recovery.clear()
        self._remember(path)
        self.window.update_title()
        self.window.show_message(f"Saved {path}")
        return True

    def _move_base_dir(self, path: Path) -> None:
        """Read relative Dataset paths from the folder the graph now lives in (``io.save``
        leaves ``base_dir`` alone, because autosave writes elsewhere)."""
        folder = Path(os.path.abspath(path)).parent
        if self.window.document.base_dir != folder:
            self.window.document.base_dir = folder
            self.window.validate_now()

    # -- export ---------------------------------------------------------------------------------
    def export_code(self, target: str, script_dir: str | Path | None = None) -> str | None:
        """The document as a ``"python"`` (engine) or ``"torch"`` script; problems shown.
        ``script_dir``: where it will be saved (data files beside the graph are then found
        relative to the script); None writes absolute paths (the clipboard)."""
        from app.graph.export import export_python, export_torch

        exporter = export_python if target == "python" else export_torch
        try:
            return exporter(self.window.document, script_dir=script_dir)
        except GraphError as error:
            found = getattr(error, "diagnostics", None)  # a CompileError lists the validator's
            if not found:
                self.window.show_problems("Cannot export this graph", [error.message])
                return None
            count = f"{len(found)} problem{'s' if len(found) != 1 else ''}"
            lines = [_problem_line(self.window.document, d) for d in found]
            self.window.show_problems(f"Cannot export this graph: fix {count} first", lines)
            return None

    def export(self, target: str, path: str | Path | None = None) -> bool:
        """Write the engine (``"python"``) or PyTorch (``"torch"``) script to a file."""
        if path is None:
            if self.export_code(target) is None:  # problems are shown before the file dialog
                return False
            label = "PyTorch" if target == "torch" else "Python (engine)"
            path = self.window.ask_save_path(f"Export {label}", "Python (*.py)", ".py")
            if not path:
                return False
        code = self.export_code(target, Path(path).resolve().parent)
        if code is None:
            return False
        try:
            Path(path).write_text(code, encoding="utf-8")
        except OSError as error:
            self.window.show_problems(f"Could not write {path}", [str(error)])
            return False
        self.window.show_message(f"Exported {path}")
        return True

    def copy_as_python(self) -> bool:
        """Put the engine script on the clipboard."""
        code = self.export_code("python")
        if code is None:
            return False
        QGuiApplication.clipboard().setText(code)
        self.window.show_message("Copied the graph as Python")
        return True


def _problem_line(document: Any, diagnostic: Any) -> str:
    """A diagnostic for the export dialog, led by its node named as the problems panel names it."""
    node = document.nodes.get(diagnostic.node_id or "")
    return f"{node.ref} — {diagnostic.message}" if node else diagnostic.message


def ask_open_path(parent: QObject) -> str:
    """The standard open dialog for graphs (blocking; tests replace the window's method)."""
    return QFileDialog.getOpenFileName(parent, "Open graph", str(EXAMPLES_DIR), FILE_FILTER)[0]


def ask_save_path(parent: QObject, title: str, file_filter: str, suffix: str) -> str:
    """The standard save dialog; adds ``suffix`` when the name has none."""
    path = QFileDialog.getSaveFileName(parent, title, "", file_filter)[0]
    if path and not Path(path).suffix:
        path += suffix
    return path
