"""The status bar: the model summary (``6 nodes · 51,850 parameters · 0 errors · 1 warning``)
on the right, and temporary messages that stay readable beside it (:class:`StatusLine`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
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


def fit_message(text: str, metrics: QFontMetrics, room: int) -> str:
    """``text`` within ``room`` pixels: the middle of its longest path gives way first (its
    start and the file's name stay), then the end of the text."""
    if metrics.horizontalAdvance(text) <= room:
        return text
    paths = [word for word in text.split() if "/" in word or "\\" in word]
    if paths:
        path = max(paths, key=len)
        others = metrics.horizontalAdvance(text) - metrics.horizontalAdvance(path)
        least = metrics.horizontalAdvance("/…/" + Path(path).name)
        short = metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, max(room - others, least))
        text = text.replace(path, short, 1)
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)


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
        self.message = ""  # the whole text of the message shown ("" when none)
        self._timeout_ms = 0
        self._since = QElapsedTimer()
        bar.messageChanged.connect(self._on_message_changed)
        bar.installEventFilter(self)

    def room(self) -> int:
        """The width left for a message beside the summary and the other permanent widgets
        shown (the training progress while a run trains), in pixels."""
        taken = MESSAGE_MARGIN
        direct = Qt.FindChildOption.FindDirectChildrenOnly
        for widget in self.bar.findChildren(QWidget, options=direct):
            if widget.isVisible() and not isinstance(widget, QSizeGrip):
                taken += max(widget.sizeHint().width(), widget.minimumWidth()) + 6
        return self.bar.width() - taken

    def show_message(self, text: str, timeout_ms: int) -> None:
        """Show ``text`` for ``timeout_ms`` (0: until the next message)."""
        self.message, self._timeout_ms = text, timeout_ms
        self._since.start()
        self._fit(timeout_ms)

    def _fit(self, timeout_ms: int) -> None:
        text = self.message
        metrics = self.bar.fontMetrics()
        self.summary.set_compact(False)
        if metrics.horizontalAdvance(text) > self.room():
            self.summary.set_compact(True)
        shown = fit_message(text, metrics, max(self.room(), 80))
        self.bar.showMessage(shown, timeout_ms)
        self.bar.setToolTip(text if shown != text else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Fit the message shown again when the bar is resized (the window was shown)."""
        if event.type() == QEvent.Type.Resize and self.message and self.bar.currentMessage():
            left = self._timeout_ms - self._since.elapsed() if self._timeout_ms else 0
            if not self._timeout_ms or left > 0:
                self._fit(max(int(left), 1) if self._timeout_ms else 0)
        return False

    def _on_message_changed(self, text: str) -> None:
        if not text:  # the message timed out or was cleared: the summary has its room back
            self.message = ""
            self.summary.set_compact(False)
            self.bar.setToolTip("")
