"""The inspector's parts for blocks.

A selected block node gets a :class:`BlockBox`: the name of the definition it uses (renamed in
place), how many nodes use that definition, "Make unique" when several do, and the trainable
parameters it holds. Inside an opened block every parameter of an inner node gets an "On block"
toggle (:func:`add_expose_toggles`) that shows it on the block's nodes, where each block node
then sets its own value; the row says so (:func:`show_exposure`). A block's input and output
nodes have their caption edited as the port's name (:func:`label_caption`).

Edits of a definition (rename, make unique, expose, hide) are top-level mutations: they are
pushed as they are, never wrapped into the open block (``Editor.push(m, scoped=False)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.graph.blocks import grouping
from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import instance_count
from app.graph.document import GraphDocument
from app.graph.mutations import Mutation, Node
from app.graph.specs.blocks import BLOCK_INPUT, BLOCK_OUTPUT
from app.ui.fields import ERROR_FIELD_STYLE, ERROR_STYLE, FieldEditor

if TYPE_CHECKING:
    from app.ui.editor import Editor

PORT_TYPES = (BLOCK_INPUT, BLOCK_OUTPUT)


def shown_graph(editor: Editor) -> GraphDocument:
    """The graph the canvas shows: the document's own, or the inside of the open block."""
    return editor.graph


def open_definition(editor: Editor) -> str | None:
    """The definition whose inside is shown (None: the graph itself)."""
    return editor.scope.definition


def flat_id(editor: Editor, node_id: str) -> str:
    """The flat id (validation's key) of node ``node_id`` of the shown graph."""
    return editor.scope.flat_id(node_id)


def push_top(editor: Editor, mutation: Mutation) -> str | None:
    """Push a mutation of the top-level document (not wrapped into the open block)."""
    return editor.push(mutation, scoped=False)


def name_problem(doc: GraphDocument, old: str, new: str) -> str | None:
    """Why ``new`` cannot be the new name of block ``old`` (None: it can)."""
    if new == old:
        return None
    if not new.isidentifier():
        return "A block name is letters, digits and _, not starting with a digit"
    if new in doc.blocks:
        return f"There is already a block '{new}'"
    return None


def _small(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class BlockBox(QGroupBox):
    """The definition block node ``node_id`` uses, and what can be done with it."""

    def __init__(self, editor: Editor, node_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Block definition", parent)
        self.setObjectName("blockBox")
        self.editor = editor
        self.node_id = node_id
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        name_box = QWidget()
        name_layout = QVBoxLayout(name_box)
        name_layout.setContentsMargins(0, 0, 0, 0)
        name_layout.setSpacing(2)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("edit_block_name")
        self.name_edit.setToolTip("The block's name, shared by every node that uses it")
        self.name_edit.textEdited.connect(self._on_name_typed)
        self.name_edit.editingFinished.connect(self._on_name_done)
        self.name_error = _small("", "blockNameError")
        self.name_error.setStyleSheet(ERROR_STYLE)
        self.name_error.hide()
        name_layout.addWidget(self.name_edit)
        name_layout.addWidget(self.name_error)
        form.addRow("Name", name_box)
        uses_row = QWidget()
        uses_layout = QVBoxLayout(uses_row)
        uses_layout.setContentsMargins(0, 0, 0, 0)
        self.uses = _small("", "blockUses")
        self.unique_button = QPushButton("Make unique")
        self.unique_button.setObjectName("makeUnique")
        self.unique_button.setToolTip("Give this node its own copy of the block to edit alone")
        self.unique_button.clicked.connect(self._on_make_unique)
        uses_layout.addWidget(self.uses)
        uses_layout.addWidget(self.unique_button, 0, Qt.AlignmentFlag.AlignLeft)
        form.addRow("Used by", uses_row)
        self.count = _small("", "blockParamCount")
        self.count.setToolTip("The weights of this node's inside, every repetition counted")
        form.addRow("Weights", self.count)
        self.settings = _small("", "blockSettings")
        self.settings.setToolTip(
            "Open the block and press On block beside an inner parameter to set it here"
        )
        form.addRow("Settings", self.settings)
        self.refresh()

    def node(self) -> Node | None:
        """The block node shown (None once it is gone)."""
        node = shown_graph(self.editor).nodes.get(self.node_id)
        return node if node is not None and node.block is not None else None

    def refresh(self) -> None:
        """Show the definition's current name, users and parameter count."""
        node = self.node()
        if node is None or node.block is None:
            return
        name = node.block.name
        if not self.name_edit.isModified():  # not being typed in: follow the document
            self.name_edit.setText(name)
            self._set_name_error(None)
        users = instance_count(self.editor.document, name)
        shared = "editing its inside changes every one" if users > 1 else "only this one"
        self.uses.setText(f"{users} node{'s' if users != 1 else ''}: {shared}")
        self.unique_button.setVisible(users > 1)
        names = [p.caption for p in node.spec.params]
        self.settings.setText(
            f"{len(names)}: {', '.join(names)} (open the block and press On block beside an "
            "inner parameter to add one)"
        )
        self.update_count()

    def update_count(self) -> None:
        """Show the trainable parameters validation counted for this node (all repetitions)."""
        counts = self.editor.holder.validation.param_counts
        count = counts.get(flat_id(self.editor, self.node_id))
        self.count.setText("?" if count is None else f"{count:,} parameters, this node's own")

    def _set_name_error(self, reason: str | None) -> None:
        self.name_edit.setStyleSheet(ERROR_FIELD_STYLE if reason else "")
        self.name_error.setText(reason or "")
        self.name_error.setVisible(bool(reason))

    def _on_name_typed(self, text: str) -> None:
        node = self.node()
        if node is not None and node.block is not None:
            self._set_name_error(name_problem(self.editor.document, node.block.name, text))

    def _on_name_done(self) -> None:
        """Rename the definition on Enter or when the box loses focus."""
        node = self.node()
        if node is None or node.block is None or not self.name_edit.isModified():
            return
        old, new = node.block.name, self.name_edit.text().strip()
        reason = name_problem(self.editor.document, old, new)
        if reason is None and new != old:
            reason = push_top(self.editor, bm.RenameBlock(old, new))
        self.name_edit.setModified(reason is not None)  # a refused name stays as typed
        self._set_name_error(reason)

    def _on_make_unique(self) -> None:
        mutation = grouping.make_unique(
            self.editor.document, self.node_id, open_definition(self.editor)
        )
        push_top(self.editor, mutation)


def label_caption(node: Node) -> tuple[str, str, str]:
    """The label row of ``node``: its caption, placeholder and tooltip (a port's name for a
    block's input and output nodes)."""
    if node.type_id in PORT_TYPES:
        side = "input" if node.type_id == BLOCK_INPUT else "output"
        tip = (
            f"The name the block node shows on this {side}; "
            f"the port stays '{node.id}' so the wires outside keep"
        )
        return "Port name", node.id, tip
    return "Label", node.spec.title, "A name shown instead of the node type's title"


def repeat_note(node: Node) -> str:
    """Why this block cannot repeat ("" when it can: one input and one output)."""
    block = node.block
    if block is None:
        return ""
    ins, outs = len(block.input_nodes()), len(block.output_nodes())
    if ins == 1 and outs == 1:
        return ""
    return (
        f"This block has {ins} input{'s' if ins != 1 else ''} and {outs} "
        f"output{'s' if outs != 1 else ''}: repeating needs one input and one output "
        "of the same shape"
    )


def add_expose_toggles(
    editor: Editor, node_id: str, fields: dict[str, FieldEditor]
) -> dict[str, QToolButton]:
    """An "On block" toggle beside each parameter field of node ``node_id`` inside the open
    block."""
    toggles = {}
    for param, field in fields.items():
        toggle = QToolButton()
        toggle.setObjectName(f"expose_{param}")
        toggle.setText("On block")
        toggle.setCheckable(True)
        toggle.clicked.connect(lambda checked, p=param: _on_toggle(editor, node_id, p, checked))
        field.add_beside(toggle)
        toggles[param] = toggle
    return toggles


def _on_toggle(editor: Editor, node_id: str, param: str, show: bool) -> None:
    doc, definition = editor.document, open_definition(editor)
    block = doc.blocks.get(definition or "")
    if definition is None or block is None:
        return
    name = grouping.exposed_on(block).get((node_id, param))
    if show and name is None:
        push_top(editor, grouping.expose(doc, definition, node_id, param))
    elif not show and name is not None:
        push_top(editor, grouping.hide(doc, definition, name))


def show_exposure(
    editor: Editor, node_id: str, fields: dict[str, FieldEditor], toggles: dict[str, QToolButton]
) -> None:
    """Mark the parameters shown on the open block: toggle down, box read-only, a note saying
    the value comes from each block node."""
    block = editor.document.blocks.get(open_definition(editor) or "")
    shown = grouping.exposed_on(block) if block is not None else {}
    for param, field in fields.items():
        name = shown.get((node_id, param))
        toggle = toggles.get(param)
        if toggle is None:
            continue
        toggle.setChecked(name is not None)
        field.input.setEnabled(name is None)
        if name is None:
            toggle.setToolTip("Show this parameter on the block: each block node sets its value")
            field.set_note("")
        else:
            toggle.setToolTip("Shown on the block; click to take it off")
            field.set_note(f"On the block as '{name}': each block node sets its value")
        field.note.setForegroundRole(QPalette.ColorRole.Link)
