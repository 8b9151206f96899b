"""The inspector dock: the selected node's parameters, or the document's training settings and
a model summary when nothing (or several nodes) is selected.

The node is one of the graph the canvas shows (the inside of an open block, too); a block
node's page and the "On block" toggles inside a block come from :mod:`app.ui.block_inspector`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.graph.document import TRAINING_PARAMS, GraphDocument
from app.graph.errors import GraphError
from app.graph.memory import MemoryEstimate, format_bytes
from app.ui import block_inspector as bi
from app.ui.editor import LIVE_SETTINGS
from app.ui.fields import FieldEditor, editor_for_param

if TYPE_CHECKING:
    from app.ui.editor import Editor


def _apply_checked(
    pspec: Any, value: Any, field: FieldEditor, apply: Callable[[Any], str | None]
) -> None:
    """Check a typed value against its spec, then apply it; show the reason in red if either
    refuses it."""
    try:
        value = pspec.coerce(value)
    except GraphError as error:
        field.set_error(str(error))
        return
    field.set_error(apply(value))


def _typing(field: FieldEditor) -> bool:
    """Whether the user is in the middle of typing into ``field`` (keep the text)."""
    return field.input.hasFocus() and (field.has_error() or field.is_pending())


class Inspector(QScrollArea):
    """The ``inspector`` widget. It follows the selection and the document."""

    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.editor = editor
        self.node_id: str | None = None
        self.fields: dict[str, FieldEditor] = {}
        self.block_box: bi.BlockBox | None = None
        self.expose_toggles: dict[str, QToolButton] = {}
        self._page_graph: GraphDocument | None = None
        self.settings_fields: dict[str, FieldEditor] = {}
        self._stack = QStackedWidget()
        self._node_page = QWidget()
        self._doc_page = self._build_document_page()
        self._stack.addWidget(self._node_page)
        self._stack.addWidget(self._doc_page)
        self.setWidget(self._stack)
        self.show_node(None)
        editor.scope.changed.connect(lambda: self.show_node(None))  # another graph is shown

    # -- document page --------------------------------------------------------------------------
    def _build_document_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        box = QGroupBox("Training settings")
        box.setObjectName("trainingSettings")
        self._settings_form = QFormLayout(box)
        self._settings_form.setFieldGrowthPolicy(
            QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
        )
        layout.addWidget(box)
        summary_box = QGroupBox("Model summary")
        summary_layout = QVBoxLayout(summary_box)
        self.summary = QTreeWidget()
        self.summary.setObjectName("modelSummary")
        self.summary.setHeaderLabels(["Node", "Parameters"])
        self.summary.setRootIsDecorated(False)
        self.summary.setMinimumHeight(180)  # a few rows stay readable; the page scrolls instead
        header = self.summary.header()  # names take the room, counts as wide as they need
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        summary_layout.addWidget(self.summary)
        layout.addWidget(summary_box, 1)
        self._build_settings(page)
        return page

    def _build_settings(self, page: QWidget) -> None:
        training = self.editor.document.training
        for pspec in TRAINING_PARAMS:
            field = editor_for_param(pspec, getattr(training, pspec.name), show_help=False)
            field.edited.connect(lambda v, p=pspec, fe=field: self._on_setting(p, v, fe))
            field.setParent(page)
            self.settings_fields[pspec.name] = field
            self._settings_form.addRow(pspec.caption, field.widget)
        self._update_settings_visibility()

    def _on_setting(self, pspec: Any, value: Any, field: FieldEditor) -> None:
        _apply_checked(pspec, value, field, lambda v: self.editor.set_setting(pspec.name, v))

    def update_summary(
        self, counts: dict[str, int | None], memory: MemoryEstimate | None = None
    ) -> None:
        """Fill the model summary with parameter counts per node and their total, then the
        memory training needs (parameters, activations at the batch size, the total and the
        node taking the most) when validation estimated it."""
        self.summary.clear()
        total = 0
        for node_id, count in counts.items():
            name = self.editor.document.nodes[node_id].display_name
            row = QTreeWidgetItem(self.summary, [name, "?" if count is None else f"{count:,}"])
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            total += count or 0
        item = QTreeWidgetItem(self.summary, ["Total", f"{total:,}"])
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFont(1, font)
        if memory is not None:
            self._add_memory_rows(memory, font)
        if self.block_box is not None:
            self.block_box.update_count()

    def _add_memory_rows(self, memory: MemoryEstimate, bold: QFont) -> None:
        nodes = self.editor.document.nodes
        largest = nodes.get(memory.largest_node or "")
        rows = [
            ("Memory: parameters", format_bytes(memory.parameter_bytes)),
            ("Memory: activations", format_bytes(memory.activation_bytes)),
            ("Memory to train", format_bytes(memory.total_bytes)),
        ]
        if largest is not None:
            rows.append(("Largest: " + largest.display_name, ""))
        for name, value in rows:
            row = QTreeWidgetItem(self.summary, [name, value])
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            if name == "Memory to train":
                row.setFont(0, bold)
                row.setFont(1, bold)

    # -- node page ------------------------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        """Show node ``node_id`` (of the graph the canvas shows), or the document page for
        None."""
        graph = bi.shown_graph(self.editor)
        self.node_id = node_id if node_id in graph.nodes else None
        self.block_box = None
        self.expose_toggles = {}
        if self.node_id is None:
            self.fields = {}
            self._stack.setCurrentWidget(self._doc_page)
            self.refresh()
            return
        old = self._node_page
        self._node_page = self._build_node_page(self.node_id)
        self._node_page.setEnabled(not self.editor.is_locked())
        self._stack.insertWidget(0, self._node_page)
        self._stack.setCurrentWidget(self._node_page)
        self._stack.removeWidget(old)
        old.deleteLater()

    def _build_node_page(self, node_id: str) -> QWidget:
        graph = self._page_graph = bi.shown_graph(self.editor)
        node = graph.nodes[node_id]
        spec = node.spec
        page = QWidget()
        layout = QVBoxLayout(page)
        title = f"Block {spec.title}" if node.block is not None else spec.title
        heading = QLabel(f"<b>{title}</b> &nbsp;<span>({node_id})</span>")
        heading.setObjectName("inspectorTitle")
        help_label = QLabel(spec.help)
        help_label.setTextFormat(Qt.TextFormat.PlainText)
        help_label.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(help_label)
        if node.block is not None:
            self.block_box = bi.BlockBox(self.editor, node_id, page)
            layout.addWidget(self.block_box)
        form = self._form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        caption, placeholder, tip = bi.label_caption(node)
        self.label_edit = QLineEdit(node.label or "")
        self.label_edit.setObjectName("edit_label")
        self.label_edit.setPlaceholderText(placeholder)
        self.label_edit.setToolTip(tip)
        self.label_edit.editingFinished.connect(self._on_label)
        form.addRow(caption, self.label_edit)
        self.fields = {}
        for pspec in spec.params:
            field = editor_for_param(pspec, node.params.get(pspec.name, pspec.default))
            field.setParent(page)
            field.base_dir = self.editor.document.base_dir
            field.edited.connect(
                lambda v, p=pspec, fe=field, n=node_id: self._on_param(n, p, v, fe)
            )
            self.fields[pspec.name] = field
            form.addRow(pspec.caption, field.widget)
        if "repeat" in self.fields and node.block is not None:
            self.fields["repeat"].set_note(bi.repeat_note(node))
        if bi.open_definition(self.editor) is not None:
            self.expose_toggles = bi.add_expose_toggles(self.editor, node_id, self.fields)
            bi.show_exposure(self.editor, node_id, self.fields, self.expose_toggles)
        layout.addLayout(form)
        layout.addStretch(1)
        self._update_visibility()
        return page

    def _on_param(self, node_id: str, pspec: Any, value: Any, field: FieldEditor) -> None:
        """Apply a committed value to the node the page was built for (a commit on focus-out
        may come after the selection moved on, or the canvas opened another graph)."""
        graph = bi.shown_graph(self.editor)
        if graph is not self._page_graph or node_id not in graph.nodes:
            return
        _apply_checked(pspec, value, field, lambda v: self.editor.set_param(node_id, pspec.name, v))

    def _on_label(self) -> None:
        node = self._shown_node()
        if not self.label_edit.isModified():  # an undo may have changed the label since
            return
        self.label_edit.setModified(False)
        if node is not None and self.label_edit.text() != (node.label or ""):
            self.editor.set_label(node.id, self.label_edit.text())

    def _update_visibility(self) -> None:
        """Hide the parameters that do not matter for the current values (``when``)."""
        node = self._shown_node()
        if node is None:
            return
        active = {p.name for p in node.spec.active_params(node.params)}
        for name, field in self.fields.items():
            self._form.setRowVisible(field.widget, name in active)

    def _update_settings_visibility(self) -> None:
        """Hide the training settings that do not matter for the current values (``when``),
        as the node page does: momentum only shows while the optimizer is SGD."""
        values = self.editor.document.training.to_dict()
        for pspec in TRAINING_PARAMS:
            field = self.settings_fields[pspec.name]
            self._settings_form.setRowVisible(field.widget, pspec.is_active(values))

    def focus_first_field(self) -> None:
        """Put the keyboard focus in the shown node's first visible parameter (or its label)."""
        visible = [f for f in self.fields.values() if not f.widget.isHidden()]
        target = visible[0].input if visible else getattr(self, "label_edit", None)
        if target is not None and self.node_id is not None:
            target.setFocus()

    def set_locked(self, locked: bool) -> None:
        """Disable every editor except the live training settings while training runs."""
        self._node_page.setEnabled(not locked)
        for name, field in self.settings_fields.items():
            field.widget.setEnabled(not locked or name in LIVE_SETTINGS)

    # -- following the document -------------------------------------------------------------
    def _shown_node(self) -> Any:
        """The node the page was built for, as the shown graph holds it now (None: gone)."""
        graph = bi.shown_graph(self.editor)
        if graph is not self._page_graph:
            return None
        return graph.nodes.get(self.node_id or "")

    def refresh(self) -> None:
        """Show the document's current values (after an edit, undo or redo)."""
        doc = self.editor.document
        if self.node_id is not None:
            node = self._shown_node()
            if node is None:
                self.show_node(None)
                return
            if set(self.fields) != {p.name for p in node.spec.params}:
                self.show_node(node.id)  # a block's parameters changed: a new page
                return
            for name, field in self.fields.items():
                field.base_dir = doc.base_dir
                if not _typing(field):
                    field.set_value(node.params.get(name))
            if not self.label_edit.isModified():  # not being typed in: follow the document
                self.label_edit.setText(node.label or "")
            if self.block_box is not None:
                self.block_box.refresh()
            if self.expose_toggles:
                bi.show_exposure(self.editor, node.id, self.fields, self.expose_toggles)
            self._update_visibility()
            return
        for name, field in self.settings_fields.items():
            if not _typing(field):
                field.set_value(getattr(doc.training, name))
        self._update_settings_visibility()
