"""Typed editors for one value (int, float, bool, choice, text) with an inline error line.

The inspector builds them from a node's ``ParamSpec`` and for the document's training settings.
Ints use spin boxes with the allowed range (out-of-range values cannot be typed); floats use a
line edit so ``1e-3`` works, and a value that does not parse or is refused turns red with the
reason under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui import style

INT_LIMIT = 2**31 - 1
ERROR_STYLE = "color: #d9302c;"
# On the text box itself (a spin box's inner one, so its arrows keep the native look); a see-
# through red reads on light and dark palettes alike.
ERROR_FIELD_STYLE = "QLineEdit { border: 1px solid #d9302c; background: rgba(217, 48, 44, 48); }"

# How choices that are acronyms or names read in a combo box (the stored value stays as is).
CHOICE_LABELS = {"sgd": "SGD", "adam": "Adam", "cpu": "CPU", "gpu": "GPU"}


def format_float(value: float) -> str:
    """A float as the shortest text that reads back to it (``0.001``, ``1e-05``)."""
    return repr(float(value)) if math.isfinite(value) else str(value)


class FieldEditor(QObject):
    """One value editor: ``widget`` to place in a form, ``edited(value)`` when the user changes
    it, :meth:`set_value` to follow the document, :meth:`set_error` to show a refusal.

    Parameters
    ----------
    kind : str
        ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"str"``.
    value : object
        The current value.
    minimum, maximum : float or None
        The allowed range of numbers.
    choices : sequence or None
        The values of a ``"choice"`` field.
    help_text : str
        Tooltip of the editor.
    """

    edited = Signal(object)

    def __init__(
        self,
        kind: str,
        value: Any,
        minimum: float | None = None,
        maximum: float | None = None,
        choices: Sequence[Any] | None = None,
        help_text: str = "",
        name: str = "",
    ) -> None:
        super().__init__()
        self.kind = kind
        self.widget = QWidget()
        self.widget.setObjectName(f"field_{name}" if name else "field")
        self.error = QLabel(self.widget)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self.input = self._make_input(kind, minimum, maximum, choices)
        self.input.setObjectName(f"edit_{name}" if name else "edit")
        self.input.setToolTip(help_text)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.input)
        layout.addWidget(self.error)
        self.help = QLabel(help_text[:1].upper() + help_text[1:], self.widget)
        self.help.setObjectName("fieldHelp")
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setFont(style.small_font(-1.0))
        self.help.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.help.setVisible(bool(help_text))
        layout.addWidget(self.help)
        self._updating = False
        self.set_value(value)
        self._connect()

    def _make_input(
        self, kind: str, minimum: float | None, maximum: float | None, choices: Sequence[Any] | None
    ) -> QWidget:
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(
                int(minimum) if minimum is not None else -INT_LIMIT,
                int(maximum) if maximum is not None else INT_LIMIT,
            )
            spin.setKeyboardTracking(True)
            spin.setAccelerated(True)
            return spin
        if kind == "bool":
            return QCheckBox()
        if kind == "choice":
            combo = QComboBox()
            self._choices = list(choices or ())
            combo.addItems([CHOICE_LABELS.get(c, str(c)) for c in self._choices])
            return combo
        return QLineEdit()

    def _connect(self) -> None:
        widget = self.input
        if isinstance(widget, QSpinBox):
            widget.valueChanged.connect(self._emit)
            widget.lineEdit().textEdited.connect(self._on_spin_text)
            widget.editingFinished.connect(lambda: self.set_error(None))  # Qt restored a value
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(self._emit)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda i: self._emit(self._choices[i]))
        else:
            widget.textEdited.connect(self._on_text)

    def _on_text(self, text: str) -> None:
        if self.kind != "float":
            self._emit(text)
            return
        try:
            value = float(text)
        except ValueError:
            self.set_error(f"{text!r} is not a number")
            return
        self._emit(value)

    def _on_spin_text(self, text: str) -> None:
        """Say why typed text that the spin box will not take is refused (it keeps its value)."""
        spin = self.input
        lo, hi = spin.minimum(), spin.maximum()
        try:
            fits = lo <= int(text) <= hi
        except ValueError:
            fits = False
        if fits:
            self.set_error(None)
        elif hi >= INT_LIMIT:
            self.set_error(f"Enter a whole number of at least {lo}")
        else:
            self.set_error(f"Enter a whole number from {lo} to {hi}")

    def _emit(self, value: Any) -> None:
        if not self._updating:
            self.edited.emit(value)

    def value(self) -> Any:
        """The value the editor shows now."""
        widget = self.input
        if isinstance(widget, QSpinBox):
            return widget.value()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return self._choices[widget.currentIndex()] if self._choices else None
        if self.kind != "float":
            return widget.text()
        try:
            return float(widget.text())
        except ValueError:
            return None

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited`` (the document changed, e.g. undo)."""
        self._updating = True
        try:
            widget = self.input
            if isinstance(widget, QSpinBox):
                if widget.value() != value:
                    widget.setValue(int(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                if value in self._choices:
                    widget.setCurrentIndex(self._choices.index(value))
            elif self.kind == "float":
                if not _same_float(widget.text(), value):
                    widget.setText(format_float(value))
            elif widget.text() != str(value):
                widget.setText(str(value))
        finally:
            self._updating = False
        self.set_error(None)

    def set_error(self, reason: str | None) -> None:
        """Show the reason a typed value is refused in red (None clears it)."""
        box = self.input.lineEdit() if isinstance(self.input, QSpinBox) else self.input
        box.setStyleSheet(ERROR_FIELD_STYLE if reason else "")
        self.error.setText(reason or "")
        self.error.setVisible(bool(reason))

    def has_error(self) -> bool:
        """Whether a refusal is shown."""
        return self.error.isVisibleTo(self.widget)


def _same_float(text: str, value: Any) -> bool:
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return False


def editor_for_param(spec: Any, value: Any, show_help: bool = True) -> FieldEditor:
    """A FieldEditor for a parameter from its ``ParamSpec`` (help under it, or only as a
    tooltip when ``show_help`` is False)."""
    field = FieldEditor(
        spec.type.value, value, spec.minimum, spec.maximum, spec.choices, spec.help, name=spec.name
    )
    field.help.setVisible(show_help and bool(spec.help))
    return field
