"""A spin box for whole numbers that keeps whatever is typed.

A plain ``QSpinBox`` drops keystrokes that would leave its range (``-5`` becomes ``5``,
``1000000000`` becomes ``100000``) and puts the last value back when an entry it does not like
loses focus, so what the user typed changes without a word. :class:`WholeNumberBox` takes any
text, steps only within the allowed range with its arrows, and asks its owner to commit on Enter
and when it loses focus; the owner checks the text and shows the refusal.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QSpinBox, QWidget

INT_LIMIT = 2**31 - 1


def parse_int(text: str) -> int | None:
    """The whole number ``text`` spells (surrounding blanks allowed), or None."""
    try:
        return int(text.strip())
    except ValueError:
        return None


class WholeNumberBox(QSpinBox):
    """A spin box whose text is never corrected behind the user's back.

    Parameters
    ----------
    minimum, maximum : int
        The allowed range; the arrows stay inside it, typing may leave it (the owner refuses).
    """

    commit_requested = Signal()
    """Enter was pressed or the box lost focus: the owner checks and applies the text."""
    stepped = Signal()
    """An arrow key, button or the wheel set a new value within the range."""

    def __init__(self, minimum: int, maximum: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allowed = (minimum, maximum)
        super().setRange(-INT_LIMIT, INT_LIMIT)  # the text decides; see validate
        self.setKeyboardTracking(True)
        self.setAccelerated(True)

    def minimum(self) -> int:
        """The smallest allowed value (not the widget's internal range)."""
        return self.allowed[0]

    def maximum(self) -> int:
        """The largest allowed value."""
        return self.allowed[1]

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Take every text: whole numbers the box can hold are values, the rest stays as typed."""
        value = parse_int(text)
        fits = value is not None and -INT_LIMIT <= value <= INT_LIMIT
        state = QValidator.State.Acceptable if fits else QValidator.State.Intermediate
        return (state, text, pos)

    def fixup(self, text: str) -> str:
        """Never rewrite the text."""
        return text

    def stepBy(self, steps: int) -> None:
        """Step from the typed number (or the last value), staying within the allowed range."""
        typed = parse_int(self.text())
        start = typed if typed is not None else self.value()
        lo, hi = self.allowed
        self.setValue(min(max(start + steps * self.singleStep(), lo), hi))
        self.lineEdit().selectAll()
        self.stepped.emit()

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        """Up only below the maximum, down only above the minimum."""
        typed = parse_int(self.text())
        value = typed if typed is not None else self.value()
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if value < self.allowed[1]:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if value > self.allowed[0]:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter commits the text as typed (Qt would put the last value back)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.commit_requested.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Leaving the box commits; text the box cannot hold stays as typed."""
        self.commit_requested.emit()
        if parse_int(self.text()) is None or not self._holdable():
            QWidget.focusOutEvent(self, event)  # skip the spin box's correction
            self.lineEdit().event(event)
            return
        super().focusOutEvent(event)

    def _holdable(self) -> bool:
        value = parse_int(self.text())
        return value is not None and -INT_LIMIT <= value <= INT_LIMIT
