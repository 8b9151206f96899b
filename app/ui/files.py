"""File handling of the editor: New, Open, Save, Save As, recent files, examples, recovery, export.

Every document it opens goes through :meth:`DocumentHolder.open_document`. The questions it asks
(which file, save changes?) come from a :class:`~app.ui.collaborators.FileDialogs` that tests
answer; failures are shown in one non-blocking dialog listing every problem, and the current
document is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError, GraphError
from app.graph.export.common import ExportedScript
from app.graph.shapes import Diagnostic
from app.ui.collaborators import FileDialogs, StatusSink, WeightsKeeper
from app.ui.document_holder import DocumentHolder
from app.ui.recovery import Recovered, Recovery

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
    """Moves documents between disk and the :class:`DocumentHolder`.

    Parameters
    ----------
    holder : DocumentHolder
        Holds the current document, its file and its saved state.
    dialogs : FileDialogs
        Asks which file and whether to save; shows problems.
    status : StatusSink
        Where "Opened …" and "Saved …" go.
    recovery : Recovery
        The autosave file, removed once the document is saved.
    """

    recent_changed = Signal()

    def __init__(
        self,
        holder: DocumentHolder,
        dialogs: FileDialogs,
        status: StatusSink,
        recovery: Recovery,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.holder, self.dialogs, self.status, self.recovery = holder, dialogs, status, recovery
        self.weights_keeper: WeightsKeeper | None = None  # the results room, once installed

    @property
    def path(self) -> Path | None:
        """The current document's file."""
        return self.holder.path

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Recently opened or saved files that still exist, newest first."""
        value = QSettings().value("recentFiles", [])
        paths = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [p for p in paths if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        paths = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        QSettings().setValue("recentFiles", paths[:MAX_RECENT])
        self.recent_changed.emit()

    # -- new / open -----------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask whether to save unsaved changes; False when the user cancels."""
        if not self.holder.is_modified():
            return True
        answer = self.dialogs.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        """Start an empty document (after asking to save)."""
        if not self.maybe_save():
            return False
        self.holder.open_document(GraphDocument())
        return True

    def open(self, path: str | Path | None = None, ask: bool = True) -> bool:
        """Open ``path`` (or ask for one); on errors show them all and keep the document."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            path = self.dialogs.ask_open_path()
            if not path:
                return False
        path = Path(path)
        try:
            document = io.load(path)
        except FileFormatError as error:
            self.dialogs.show_problems(f"Could not open {path.name}", error.problems, KEPT)
            return False
        if is_example(path):  # a copy: saving asks for a new name, the bundled file stays
            self.holder.open_document(document, None, example=path.stem)
        else:
            self.holder.open_document(document, path)
            self._remember(path)
        note = self._load_weights(path)
        self.status.show_message(f"Opened {path}{note}")
        return True

    def restore(self, recovered: Recovered) -> bool:
        """Open a document recovered after a crash, as modified (its original file, if any,
        as the path); False when the user cancels or it cannot be read."""
        if not self.maybe_save():
            return False
        folder = recovered.folder()
        try:  # relative Dataset paths are read from the graph's own folder, not the recovery one
            document = io.load(recovered.path, base_dir=folder)
        except FileFormatError as error:
            self.dialogs.show_problems("Could not restore the recovered graph", error.problems)
            return False
        document.base_dir = folder
        original = Path(recovered.original) if recovered.original else None
        self.holder.open_document(document, original, modified=True)
        note = self._load_weights(original) if original is not None else ""
        self.status.show_message(f"Restored the recovered graph{note}")
        return True

    def _load_weights(self, path: Path) -> str:
        """Hand the weights saved beside ``path`` (if any) to the training room; returns a
        note for the status bar (" with its trained weights", which nodes did not fit)."""
        weights_file = io.find_weights(path)  # .safetensors, else a legacy .npz
        if self.weights_keeper is None:
            return ""
        if weights_file is None:
            self.weights_keeper.set_weights(None)
            return ""
        try:
            note = self.weights_keeper.set_weights(io.load_weights(weights_file))
        except FileFormatError as error:
            self.dialogs.show_problems(f"Could not load {weights_file.name}", error.problems)
            return f" (its weights file {weights_file.name} could not be read)"
        return note if isinstance(note, str) else " with its trained weights"

    def _save_weights(self, path: Path) -> str:
        """Write the trained weights beside the graph (nothing when there are none); returns
        a note for the status bar saying which weights were written."""
        keeper = self.weights_keeper
        if keeper is None:
            return ""
        weights, note = keeper.weights_for_save()
        if weights:
            io.save_weights(weights, io.weights_path(path))
        return note if weights else ""

    def open_example(self, path: Path) -> bool:
        """Open a bundled example as an untitled copy (saving asks for a new name)."""
        return self.open(path)

    def open_dropped(self, paths: list[str]) -> None:
        """Open the first ``.nodegrad`` file dropped on the window."""
        graphs = [p for p in paths if p.endswith(".nodegrad")]
        if graphs:
            self.open(graphs[0])
        elif paths:
            self.status.show_message("Only .nodegrad files can be opened")

    # -- save -----------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current file (Save As when there is none)."""
        if self.path is None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save under a new name (asked for when ``path`` is None)."""
        if path is None:
            path = self.dialogs.ask_save_path("Save graph", FILE_FILTER, ".nodegrad")
            if not path:
                return False
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        try:
            io.save(self.holder.document, path)
            note = self._save_weights(path)
        except (OSError, GraphError) as error:
            self.dialogs.show_problems(f"Could not save {path.name}", [str(error)])
            return False
        self._move_base_dir(path)
        self.holder.mark_saved(path)
        self.recovery.clear()
        self._remember(path)
        self.status.show_message(f"Saved {path}{note}")
        return True

    def _move_base_dir(self, path: Path) -> None:
        """Read relative Dataset paths from the folder the graph now lives in (``io.save``
        leaves ``base_dir`` alone, because autosave writes elsewhere)."""
        folder = Path(os.path.abspath(path)).parent
        if self.holder.document.base_dir != folder:
            self.holder.document.base_dir = folder
            self.holder.validate_now()

    # -- export ---------------------------------------------------------------------------------
    def export_code(self, target: str, script_dir: str | Path | None = None) -> str | None:
        """The document as a ``"python"`` (engine) or ``"torch"`` script; problems shown.
        ``script_dir``: where it will be saved (data files beside the graph are then found
        relative to the script); None writes absolute paths (the clipboard)."""
        exported = self.export_script(target, script_dir)
        return None if exported is None else exported.code

    def export_script(
        self, target: str, script_dir: str | Path | None = None
    ) -> ExportedScript | None:
        """:meth:`export_code` with the export's notice (why the blocks were written flat)."""
        from app.graph.compile import CompileError
        from app.graph.export import export_script

        try:
            return export_script(
                self.holder.document,
                "torch" if target == "torch" else "python",
                script_dir=script_dir,
            )
        except GraphError as error:
            # a CompileError lists the validator's diagnostics
            found = error.diagnostics if isinstance(error, CompileError) else []
            if not found:
                self.dialogs.show_problems("Cannot export this graph", [error.message])
                return None
            count = f"{len(found)} problem{'s' if len(found) != 1 else ''}"
            lines = [_problem_line(self.holder.document, d) for d in found]
            self.dialogs.show_problems(f"Cannot export this graph: fix {count} first", lines)
            return None

    def export(self, target: str, path: str | Path | None = None) -> bool:
        """Write the engine (``"python"``) or PyTorch (``"torch"``) script to a file."""
        if path is None:
            if self.export_code(target) is None:  # problems are shown before the file dialog
                return False
            label = "PyTorch" if target == "torch" else "Python (engine)"
            path = self.dialogs.ask_save_path(f"Export {label}", "Python (*.py)", ".py")
            if not path:
                return False
        exported = self.export_script(target, Path(path).resolve().parent)
        if exported is None:
            return False
        from app.graph.export import write_weights

        keeper = self.weights_keeper
        try:
            Path(path).write_text(exported.code, encoding="utf-8")
            weights = keeper.weights() if keeper is not None else None
            write_weights(self.holder.document, target, path, weights)
        except OSError as error:
            self.dialogs.show_problems(f"Could not write {path}", [str(error)])
            return False
        except GraphError as error:
            self.dialogs.show_problems(
                f"Could not export the trained weights to {path}", [error.message]
            )
            return False
        self._done(f"Exported {path}", exported.notice)
        return True

    def copy_as_python(self) -> bool:
        """Put the engine script on the clipboard."""
        exported = self.export_script("python")
        if exported is None:
            return False
        QGuiApplication.clipboard().setText(exported.code)
        self._done("Copied the graph as Python", exported.notice)
        return True

    def _done(self, text: str, notice: str) -> None:
        """Say an export is done in the status bar, with its notice when it has one (kept
        there until the next message, and shown whole in the export dialog)."""
        if not notice:
            self.status.show_message(text)
            return
        self.dialogs.show_notice(text, notice)
        self.status.show_message(f"{text}. {notice}", 0)


def _problem_line(document: GraphDocument, diagnostic: Diagnostic) -> str:
    """A diagnostic for the export dialog, led by its node named as the problems panel names it."""
    node = document.nodes.get(diagnostic.node_id or "")
    return f"{node.ref} — {diagnostic.message}" if node else diagnostic.message


def ask_open_path(parent: QWidget) -> str:
    """The standard open dialog for graphs (blocking; tests replace the window's method)."""
    return QFileDialog.getOpenFileName(parent, "Open graph", str(EXAMPLES_DIR), FILE_FILTER)[0]


def ask_save_path(parent: QWidget, title: str, file_filter: str, suffix: str) -> str:
    """The standard save dialog; adds ``suffix`` when the name has none."""
    path = QFileDialog.getSaveFileName(parent, title, "", file_filter)[0]
    if path and not Path(path).suffix:
        path += suffix
    return path
