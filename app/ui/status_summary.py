"""The status bar's model summary: ``6 nodes · 51,850 parameters · 0 errors · 1 warning``."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from app.graph.validate import ValidationResult
from app.ui.document_holder import DocumentHolder


def summary_text(node_count: int, result: ValidationResult) -> str:
    """Nodes, parameters (from the validation's counts), errors and warnings, in one line."""
    errors, warnings = len(result.errors), len(result.warnings)
    total = sum(result.param_counts.values())
    return (
        f"{node_count} nodes · {total:,} parameters · "
        f"{errors} error{'s' * (errors != 1)} · {warnings} warning{'s' * (warnings != 1)}"
    )


class StatusSummary(QLabel):
    """The ``statusSummary`` label; it follows the holder's validation results."""

    def __init__(self, holder: DocumentHolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusSummary")
        self.holder = holder
        holder.validated.connect(self.show_result)
        self.show_result(holder.validation)

    def show_result(self, result: ValidationResult) -> None:
        """Summarise ``result`` for the held document."""
        self.setText(summary_text(len(self.holder.document.nodes), result))
