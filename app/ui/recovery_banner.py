"""The bar above the canvas that offers work recovered after a crash (it never blocks)."""

from __future__ import annotations

import datetime

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.files import FileController
from app.ui.recovery import Recovered, Recovery


class RecoveryBanner(QFrame):
    """``Restore`` / ``Discard`` for the newest recovery file a crashed editor left.

    Parameters
    ----------
    files : FileController
        Restores a recovered document (asking to save the current one first).
    """

    def __init__(self, files: FileController) -> None:
        super().__init__()
        self.setObjectName("recoveryBanner")
        self.files = files
        self.found: list[Recovered] = []
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # the label's text colour too: a dark palette's light text is unreadable on the yellow
        self.setStyleSheet(
            "#recoveryBanner { background: #fff4ce; } #recoveryBanner QLabel { color: #3d3200; }"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("recoveryRestore")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setObjectName("recoveryDiscard")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.restore_button)
        layout.addWidget(self.discard_button)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        self.hide()

    def wrap(self, widget: QWidget) -> QWidget:
        """A container with this banner above ``widget`` (the canvas)."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self)
        layout.addWidget(widget, 1)
        return box

    def offer(self, found: list[Recovered]) -> None:
        """Show the banner for the newest of ``found`` (hidden when empty)."""
        self.found = found
        if not found:
            self.hide()
            return
        newest = found[0]
        when = datetime.datetime.fromtimestamp(newest.path.stat().st_mtime)
        name = newest.original or "an untitled graph"
        self.text.setText(
            f"nodegrad did not exit cleanly. Unsaved changes to {name} were "
            f"recovered (autosaved {when:%Y-%m-%d %H:%M})."
        )
        self.show()

    def restore(self) -> None:
        """Open the recovered document as modified (its original file, if any, as the path).
        Its recovery file is kept until the restored document is saved or autosaved; older
        ones are deleted."""
        if self.found and self.files.restore(self.found[0]):
            self.files.recovery.adopt(self.found[0])
            self.found = self.found[1:]
            self.discard()

    def discard(self) -> None:
        """Delete the offered recovery files and hide the banner."""
        for recovered in self.found:
            Recovery.discard(recovered)
        self.found = []
        self.hide()
