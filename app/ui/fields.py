"""Typed editors for one value (int, float, bool, choice, text) with an inline error line.

The inspector builds them from a node's ``ParamSpec`` and for the document's training settings.
A typed value is applied only when it is complete: on Enter, when the box loses focus, or after
a short pause in typing, and only when it parses and passes the field's check; otherwise the
reason shows in red under the box and nothing changes. Ints use :class:`WholeNumberBox` (native
arrows, but the text stays as typed), floats a line edit so ``1e-3`` works. A file path gets a
Browse button.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.graph.errors import GraphError
from app.ui import style
from app.ui.number_box import INT_LIMIT, WholeNumberBox, parse_int

ERROR_STYLE = "color: #d9302c;"
# On the text box itself (a spin box's inner one, so its arrows keep the native look); a see-
# through red reads on light and dark palettes alike.
ERROR_FIELD_STYLE = "QLineEdit { border: 1px solid #d9302c; background: rgba(217, 48, 44, 48); }"

# How choices that are acronyms or names read in a combo box (the stored value stays as is).
CHOICE_LABELS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "cpu": "CPU", "gpu": "GPU"}

PAUSE_MS = 800
"""A typed value that is complete is applied after this long without a keystroke."""

Check = Callable[[Any], str | None]
"""A field's extra rule: the reason a parsed value is refused, or None."""


def format_float(value: float) -> str:
    """A float as the shortest text that reads back to it (``0.001``, ``1e-05``)."""
    return repr(float(value)) if math.isfinite(value) else str(value)


def ask_file(parent: QWidget, caption: str, start: str) -> str:
    """Ask for an existing file with the platform's dialog; "" when cancelled.

    Tests replace this module attribute so that Browse never blocks.
    """
    path, _ = QFileDialog.getOpenFileName(parent, caption, start)
    return path


class FieldEditor(QObject):
    """One value editor: ``widget`` to place in a form, ``edited(value)`` when the user commits a
    value that parses and passes ``check``, :meth:`set_value` to follow the document,
    :meth:`set_error` to show a refusal.

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
    name : str
        The parameter's name: the input is ``edit_<name>``, the Browse button ``browse_<name>``.
    check : callable or None
        The reason a parsed value is refused, or None (e.g. from ``ParamSpec.coerce``).
    file : bool
        A path to a file: a Browse button beside the box.
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
        check: Check | None = None,
        file: bool = False,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.check = check
        self.base_dir: Path | None = None
        """The folder relative paths are read from (Browse writes paths relative to it)."""
        self.widget = QWidget()
        self.widget.setObjectName(f"field_{name}" if name else "field")
        self.error = QLabel(self.widget)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self._choices: list[Any] = list(choices or ())
        self._range = (minimum, maximum)
        self.input = self._make_input(kind, minimum, maximum)
        self.input.setObjectName(f"edit_{name}" if name else "edit")
        self.input.setToolTip(help_text)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.browse: QToolButton | None = None
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addWidget(self.input, 1)
        if file:
            self._add_browse(name)
        layout.addLayout(self._row)
        layout.addWidget(self.error)
        self.note = QLabel(self.widget)
        self.note.setObjectName("fieldNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setFont(style.small_font(-1.0, bold=True))
        self.note.hide()
        layout.addWidget(self.note)
        self.help = QLabel(help_text[:1].upper() + help_text[1:], self.widget)
        self.help.setObjectName("fieldHelp")
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setFont(style.small_font(-1.0))
        self.help.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.help.setVisible(bool(help_text))
        layout.addWidget(self.help)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(PAUSE_MS)
        self._pause.timeout.connect(self.commit)
        self._updating = False
        self._current: Any = None
        self.set_value(value)
        self._connect()

    def _make_input(self, kind: str, minimum: float | None, maximum: float | None) -> QWidget:
        if kind == "int":
            lo = int(minimum) if minimum is not None else -INT_LIMIT
            return WholeNumberBox(lo, int(maximum) if maximum is not None else INT_LIMIT)
        if kind == "bool":
            return QCheckBox()
        if kind == "choice":
            combo = QComboBox()
            combo.addItems([CHOICE_LABELS.get(c, str(c)) for c in self._choices])
            return combo
        return QLineEdit()

    def _add_browse(self, name: str) -> None:
        self.browse = QToolButton(self.widget)
        self.browse.setText("Browse…")
        self.browse.setObjectName(f"browse_{name}" if name else "browse")
        self.browse.setToolTip("Choose the file")
        self.browse.clicked.connect(self._on_browse)
        self._row.addWidget(self.browse)

    def add_beside(self, widget: QWidget) -> None:
        """Put ``widget`` (a small button) to the right of the input box."""
        widget.setParent(self.widget)
        self._row.addWidget(widget)

    def set_note(self, text: str) -> None:
        """Show ``text`` under the box (why its value is set elsewhere); "" hides it."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _connect(self) -> None:
        widget = self.input
        if isinstance(widget, WholeNumberBox):
            widget.lineEdit().textEdited.connect(self._on_typed)
            widget.commit_requested.connect(self.commit)
            widget.stepped.connect(self.commit)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(self._emit)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda i: self._emit(self._choices[i]))
        elif isinstance(widget, QLineEdit):
            widget.textEdited.connect(self._on_typed)
            widget.editingFinished.connect(self.commit)  # Enter or focus out

    def _text(self) -> str:
        widget = self.input
        if isinstance(widget, WholeNumberBox):
            return str(widget.lineEdit().text())
        return str(widget.text()) if isinstance(widget, QLineEdit) else ""

    def _parse(self, text: str) -> tuple[Any, str | None]:
        """The value ``text`` spells and the reason it is refused (None when it is not)."""
        value: Any = text
        if self.kind == "int":
            box = self.input
            assert isinstance(box, WholeNumberBox)
            lo, hi = box.allowed
            value = parse_int(text)
            if value is None or not lo <= value <= hi:
                if hi >= INT_LIMIT:
                    return None, f"Enter a whole number of at least {lo}"
                return None, f"Enter a whole number from {lo} to {hi}"
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                return None, f"{text!r} is not a number"
            reason = _float_range_reason(value, *self._range)
            if reason is not None:
                return None, reason
        reason = self.check(value) if self.check is not None else None
        return value, reason

    def _on_typed(self, text: str) -> None:
        """Say at once whether the text is a value it can take; apply it after a pause."""
        self.set_error(self._parse(text)[1])
        self._pause.start()

    def commit(self) -> None:
        """Apply the typed text if it parses and passes the check, else show why not."""
        self._pause.stop()
        if self._updating or self.kind not in ("int", "float", "str"):
            return
        refused = self.has_error()  # by the check or by the owner: try again
        value, reason = self._parse(self._text())
        self.set_error(reason)
        if reason is None and (refused or not _same(value, self._current)):
            self._current = value  # the owner shows a refusal of its own with set_error
            self._emit(value)

    def _emit(self, value: Any) -> None:
        if not self._updating:
            self.edited.emit(value)

    def _on_browse(self) -> None:
        base = self.base_dir
        typed = self._text()
        start = Path(typed) if typed else None
        if start is not None and not start.is_absolute() and base is not None:
            start = base / start
        folder = start.parent if start is not None else base
        path = ask_file(self.widget, "Choose the file", str(folder or ""))
        if not path:
            return
        if base is not None:  # inside the graph's folder: relative, so the two move together
            try:
                relative = Path(os.path.relpath(path, base)).as_posix()
            except ValueError:  # another drive (Windows)
                relative = ".."
            if not relative.startswith(".."):
                path = relative
        line = self.input
        assert isinstance(line, QLineEdit)
        line.setText(path)
        self.commit()

    def value(self) -> Any:
        """The value the editor shows now (None when its text is not one)."""
        widget = self.input
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return self._choices[widget.currentIndex()] if self._choices else None
        if self.kind == "str":
            return self._text()
        return self._parse(self._text())[0]

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited`` (the document changed, e.g. undo)."""
        self._pause.stop()
        self._updating = True
        try:
            self._current = value
            widget = self.input
            if isinstance(widget, WholeNumberBox):
                if parse_int(widget.text()) != value:
                    widget.setValue(int(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                if value in self._choices:
                    widget.setCurrentIndex(self._choices.index(value))
            elif isinstance(widget, QLineEdit):
                if self.kind == "float":
                    if not _same_float(widget.text(), value):
                        widget.setText(format_float(value))
                elif widget.text() != str(value):
                    widget.setText(str(value))
        finally:
            self._updating = False
        self.set_error(None)

    def set_error(self, reason: str | None) -> None:
        """Show the reason a typed value is refused in red (None clears it)."""
        widget = self.input
        box = widget.lineEdit() if isinstance(widget, WholeNumberBox) else widget
        box.setStyleSheet(ERROR_FIELD_STYLE if reason else "")
        self.error.setText(reason or "")
        self.error.setVisible(bool(reason))

    def has_error(self) -> bool:
        """Whether a refusal is shown."""
        return self.error.isVisibleTo(self.widget)

    def is_pending(self) -> bool:
        """Whether typed text differs from the value shown last (not applied yet)."""
        if self.kind not in ("int", "float", "str"):
            return False
        return not _same(self._parse(self._text())[0], self._current)


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (numbers compare by value, ``1`` and ``True`` differ)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return bool(a == b) if numbers else type(a) is type(b) and bool(a == b)


def _float_range_reason(value: float, lo: float | None, hi: float | None) -> str | None:
    """Why ``value`` is outside ``[lo, hi]`` in words, or None."""
    if not math.isfinite(value):
        return "Enter a finite number"
    if (lo is None or value >= lo) and (hi is None or value <= hi):
        return None
    if lo is not None and hi is not None:
        return f"Enter a number from {format_bound(lo)} to {format_bound(hi)}"
    if lo is not None:
        return f"Enter a number of at least {format_bound(lo)}"
    return f"Enter a number of at most {format_bound(hi or 0.0)}"


def format_bound(x: float) -> str:
    """A range bound as people write it (``10``, ``0.5``)."""
    return str(int(x)) if float(x).is_integer() else str(x)


def _same_float(text: str, value: Any) -> bool:
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return False


def spec_check(spec: Any) -> Check:
    """The reason ``spec.coerce`` refuses a value, or None."""

    def check(value: Any) -> str | None:
        try:
            spec.coerce(value)
        except GraphError as error:
            return str(error)
        return None

    return check


def editor_for_param(spec: Any, value: Any, show_help: bool = True) -> FieldEditor:
    """A FieldEditor for a parameter from its ``ParamSpec`` (help under it, or only as a
    tooltip when ``show_help`` is False)."""
    field = FieldEditor(
        spec.type.value,
        value,
        spec.minimum,
        spec.maximum,
        spec.choices,
        spec.help,
        name=spec.name,
        check=spec_check(spec),
        file=bool(getattr(spec, "file", False)),
    )
    field.help.setVisible(show_help and bool(spec.help))
    return field
