"""The status bar: the model summary (``6 nodes · 51,850 parameters · 0 errors · 1 warning``)
on the right, and temporary messages that stay readable beside it (:class:`StatusLine`)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel, QSizeGrip, QStatusBar, QWidget

from app.graph.validate import ValidationResult
from app.ui.document_holder import DocumentHolder


def summary_text(node_count: int, result: ValidationResult) -> str:
    """Nodes, parameters (from the validation's counts), errors and warnings, in one line."""
    total = sum(result.param_counts.values())
    return f"{node_count} nodes · {total:,} parameters · {problems_text(result)}"


def problems_text(result: ValidationResult) -> str:
    """The errors and warnings alone: what the summary keeps while a long message is shown."""
    errors, warnings = len(result.errors), len(result.warnings)
    return f"{errors} error{'s' * (errors != 1)} · {warnings} warning{'s' * (warnings != 1)}"


class StatusSummary(QLabel):
    """The ``statusSummary`` label; it follows the holder's validation results."""

    def __init__(self, holder: DocumentHolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusSummary")
        self.holder = holder
        self.compact = False
        holder.validated.connect(self.show_result)
        self.show_result(holder.validation)

    def set_compact(self, compact: bool) -> None:
        """Say only the errors and warnings (a long message needs the room), or everything."""
        if compact != self.compact:
            self.compact = compact
            self.show_result(self.holder.validation)

    def show_result(self, result: ValidationResult) -> None:
        """Summarise ``result`` for the held document (the whole summary is the tooltip while
        it is compact)."""
        full = summary_text(len(self.holder.document.nodes), result)
        self.setText(problems_text(result) if self.compact else full)
        self.setToolTip(full if self.compact else "")


MESSAGE_MARGIN = 40  # the bar's margins, the gap before the summary and the size grip


class StatusLine(QObject):
    """Shows temporary messages in ``bar`` so they can be read whole: a message too long for
    the room beside ``summary`` first makes the summary compact, then loses the middle of its
    text (a long path's folders, keeping its start and the file's name), and the whole message
    is the bar's tooltip while it shows."""

    def __init__(self, bar: QStatusBar, summary: StatusSummary) -> None:
        super().__init__(bar)
        self.bar = bar
        self.summary = summary
        bar.messageChanged.connect(self._on_message_changed)

    def room(self) -> int:
        """The width left for a message beside the summary and the other permanent widgets
        shown (the training progress while a run trains), in pixels."""
        taken = MESSAGE_MARGIN
        for widget in self.bar.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if widget.isVisible() and not isinstance(widget, QSizeGrip):
                taken += max(widget.sizeHint().width(), widget.minimumWidth()) + 6
        return self.bar.width() - taken

    def show_message(self, text: str, timeout_ms: int) -> None:
        """Show ``text`` for ``timeout_ms`` (0: until the next message)."""
        metrics = self.bar.fontMetrics()
        self.summary.set_compact(False)
        if metrics.horizontalAdvance(text) > self.room():
            self.summary.set_compact(True)
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, max(self.room(), 80))
        self.bar.showMessage(shown, timeout_ms)
        self.bar.setToolTip(text if shown != text else "")

    def _on_message_changed(self, text: str) -> None:
        if not text:  # the message timed out or was cleared: the summary has its room back
            self.summary.set_compact(False)
            self.bar.setToolTip("")
