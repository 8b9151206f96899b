"""DocumentHolder: the editor's one current document, its file, its saved state and validation.

Every panel subscribes to the holder's signals directly:

- ``changed(DocumentEvent)`` after each change of the document (an edit, an undo, a redo, a
  script calling the document), in the order the document made them;
- ``replaced()`` when another document takes its place (New, Open, crash recovery);
- ``validated(ValidationResult)`` when a fresh validation result is there (debounced after
  edits, at once on :meth:`DocumentHolder.validate_now` and on replacement);
- ``file_changed()`` when the path, the example name or the modified state changed (the window
  title follows it).

Nothing else in the editor listens to the ``GraphDocument`` itself.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from app.graph.document import DocumentEvent, GraphDocument
from app.graph.validate import ValidationResult, validate

VALIDATION_DELAY_MS = 150


class DocumentHolder(QObject):
    """Owns the current :class:`GraphDocument`, its undo stack, path and validation result.

    Parameters
    ----------
    document : GraphDocument or None
        The first document (an empty one when None).
    parent : QObject or None
        The Qt parent (the main window).
    """

    changed = Signal(object)
    replaced = Signal()
    validated = Signal(object)
    file_changed = Signal()

    def __init__(
        self, document: GraphDocument | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._document = document if document is not None else GraphDocument()
        self._document.add_listener(self._on_event)
        self._path: Path | None = None
        self._example: str | None = None
        self._validation = validate(self._document)
        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATION_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # -- what is held -----------------------------------------------------------------------------
    @property
    def document(self) -> GraphDocument:
        """The document being edited."""
        return self._document

    @property
    def path(self) -> Path | None:
        """The file the document is saved to (None: untitled, or a copy of an example)."""
        return self._path

    @property
    def example(self) -> str | None:
        """The bundled example the untitled document was opened from, if any."""
        return self._example

    @property
    def validation(self) -> ValidationResult:
        """The latest validation result (at most ``VALIDATION_DELAY_MS`` behind an edit)."""
        return self._validation

    def display_name(self) -> str:
        """The name the title shows: the file, ``name (example)`` or ``Untitled``."""
        if self._path is not None:
            return self._path.name
        return f"{self._example} (example)" if self._example else "Untitled"

    def is_modified(self) -> bool:
        """Whether there are changes that are not saved."""
        return not self.undo_stack.isClean()

    # -- replacing and saving ---------------------------------------------------------------------
    def open_document(
        self,
        document: GraphDocument,
        path: Path | None = None,
        *,
        example: str | None = None,
        modified: bool = False,
    ) -> None:
        """Hold ``document`` instead of the current one: the one way New, Open and recovery go.

        Parameters
        ----------
        document : GraphDocument
            The document to edit now; the undo history starts afresh.
        path : Path or None
            Its file (None: untitled).
        example : str or None
            The name of the bundled example it is an untitled copy of.
        modified : bool
            Whether it starts with unsaved changes (a recovered document).
        """
        self._document.remove_listener(self._on_event)
        self._document = document
        document.add_listener(self._on_event)
        self._path, self._example = path, example
        self.undo_stack.clear()
        self.undo_stack.setClean()
        if modified:
            self.undo_stack.resetClean()  # no undo step leads back to a saved state
        self._validate_timer.stop()
        self._validation = validate(document)
        self.replaced.emit()
        self.validated.emit(self._validation)
        self.file_changed.emit()

    def mark_saved(self, path: Path) -> None:
        """The document was written to ``path``: that is its file now, with nothing unsaved."""
        self._path, self._example = path, None
        self.undo_stack.setClean()
        self.file_changed.emit()

    def mark_modified(self) -> None:
        """Count the document as changed until the next save (no undo step returns to clean)."""
        self.undo_stack.resetClean()
        self.file_changed.emit()

    # -- validation -------------------------------------------------------------------------------
    def validate_now(self) -> ValidationResult:
        """Validate the document now and tell every panel (``validated``)."""
        self._validate_timer.stop()
        self._validation = validate(self._document)
        self.validated.emit(self._validation)
        return self._validation

    def detach(self) -> None:
        """Stop following the document (the window is closing)."""
        self._validate_timer.stop()
        self._document.remove_listener(self._on_event)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.file_changed.emit()

    def _on_event(self, event: DocumentEvent) -> None:
        if not shiboken6.isValid(self):  # the window went away without closing
            self._document.remove_listener(self._on_event)
            return
        self.changed.emit(event)
        self._validate_timer.start()
