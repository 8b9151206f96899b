"""Random edit sequences through the undo stack: undoing all of them restores the document."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF
from ui_driver import digits_document

from app.graph.document import TRAINING_PARAMS
from app.graph.mutations import Connect
from app.graph.specs import ParamType, all_specs
from app.ui.canvas.scene import GraphScene
from app.ui.clipboard import copy_fragment, paste_mutation
from app.ui.document_holder import DocumentHolder
from app.ui.editor import Editor

SPECS = all_specs()
OPS = (
    "add",
    "remove",
    "connect",
    "disconnect",
    "param",
    "move",
    "setting",
    "label",
    "paste",
    "insert",
)


def sample_value(pspec, pick: int):
    """A value the parameter accepts, chosen by ``pick``."""
    if pspec.type is ParamType.BOOL:
        return bool(pick % 2)
    if pspec.type is ParamType.CHOICE:
        return pspec.choices[pick % len(pspec.choices)]
    if pspec.type is ParamType.STR:
        return pspec.default
    lo = pspec.minimum if pspec.minimum is not None else -5
    hi = pspec.maximum if pspec.maximum is not None else lo + 50
    hi = min(hi, lo + 200)
    if pspec.type is ParamType.INT:
        return int(lo) + pick % (int(hi) - int(lo) + 1)
    return lo + (hi - lo) * (pick % 97) / 97


def apply_op(editor: Editor, op: str, a: int, b: int) -> None:
    """One edit chosen by ``op`` with ``a``/``b`` picking its targets (may be refused)."""
    doc = editor.document
    ids = list(doc.nodes)
    if op == "add" or not ids:
        editor.add_node(SPECS[a % len(SPECS)].type_id, QPointF(a % 700, b % 500))
    elif op == "remove":
        editor.delete([ids[a % len(ids)]], [])
    elif op == "connect":
        src, dst = doc.nodes[ids[a % len(ids)]], doc.nodes[ids[b % len(ids)]]
        if src.spec.outputs and dst.spec.inputs:
            out = src.spec.outputs[b % len(src.spec.outputs)].name
            inp = dst.spec.inputs[a % len(dst.spec.inputs)].name
            if doc.check_connect(src.id, out, dst.id, inp) is None:
                editor.push(Connect(src.id, out, dst.id, inp))
    elif op == "disconnect" and doc.edges:
        editor.delete([], [doc.edges[a % len(doc.edges)]])
    elif op == "param":
        node = doc.nodes[ids[a % len(ids)]]
        if node.spec.params:
            pspec = node.spec.params[b % len(node.spec.params)]
            editor.set_param(node.id, pspec.name, sample_value(pspec, a + b))
    elif op == "move":
        editor.move_nodes({ids[a % len(ids)]: (QPointF(), QPointF(b % 900, a % 600))})
    elif op == "setting":
        pspec = TRAINING_PARAMS[a % len(TRAINING_PARAMS)]
        editor.set_setting(pspec.name, sample_value(pspec, b))
    elif op == "label":
        editor.set_label(ids[a % len(ids)], f"n{b % 7}")
    elif op == "paste":
        fragment = copy_fragment(doc, ids[a % len(ids) : a % len(ids) + 1 + b % 3])
        editor.push(paste_mutation(doc, fragment, (float(a % 500), float(b % 500)))[0])
    elif op == "insert" and doc.edges:
        spec = SPECS[b % len(SPECS)]
        editor.add_node(spec.type_id, QPointF(0, 0), on_wire=doc.edges[a % len(doc.edges)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.integers(0, 10_000)), max_size=25
    )
)
def test_random_edits_then_undo_all_restores_the_original(qapp, edits) -> None:
    holder = DocumentHolder(digits_document())
    stack, doc = holder.undo_stack, holder.document
    editor = Editor(holder)
    scene = GraphScene(holder)
    original = doc.to_dict()
    for op, a, b in edits:
        apply_op(editor, op, a, b)
    edited = doc.to_dict()
    assert len(scene.node_items()) == len(doc.nodes)
    assert len(scene.edge_items()) == len(doc.edges)
    while stack.canUndo():
        stack.undo()
    assert doc.to_dict() == original
    while stack.canRedo():
        stack.redo()
    assert doc.to_dict() == edited
    assert len(scene.edge_items()) == len(doc.edges)
    holder.detach()
