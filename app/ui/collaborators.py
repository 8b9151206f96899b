"""The narrow services the editor's helpers are given instead of the main window.

:class:`~app.ui.main_window.MainWindow` provides each of them; a helper that is typed with one
of these protocols can only call what the protocol names.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

Weights = dict[str, np.ndarray]


class StatusSink(Protocol):
    """Where short status texts go (the status bar)."""

    def show_message(self, text: str, timeout_ms: int = ...) -> None:
        """Show ``text`` for ``timeout_ms`` milliseconds (0: until replaced)."""


class ProblemReporter(Protocol):
    """Shows a list of problems in one non-blocking dialog."""

    def show_problems(self, title: str, problems: list[str], after: str = ...) -> object:
        """One dialog listing ``problems`` under ``title`` (then ``after``, a closing line)."""


class FileDialogs(ProblemReporter, Protocol):
    """The questions file handling asks (tests replace them with fixed answers)."""

    def ask_save_changes(self) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"``."""

    def ask_open_path(self) -> str:
        """The graph to open (empty when cancelled)."""

    def ask_save_path(self, title: str, file_filter: str, suffix: str) -> str:
        """Where to save (empty when cancelled)."""

    def show_notice(self, title: str, text: str) -> object:
        """One non-blocking dialog telling ``text`` (an export's notice) under ``title``."""


class WeightsKeeper(Protocol):
    """Who holds the trained weights that are saved and loaded beside a graph."""

    def weights(self) -> Weights | None:
        """The weights to save beside the graph, or None."""

    def weights_for_save(self) -> tuple[Weights | None, str]:
        """The weights to save beside the graph (or None) and a note for the status bar."""

    def set_weights(self, weights: Weights | None) -> str | None:
        """Weights loaded with the graph; may return a note for the status bar."""
