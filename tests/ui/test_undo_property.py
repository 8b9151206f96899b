"""Random edit sequences through the undo stack: undoing all of them restores the document.

The edits include the block commands (group, ungroup, make unique, repeat) and moving into and
out of blocks, so edits also happen inside blocks (as ``EditBlock`` steps of the one stack)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF
from ui_driver import digits_document

from app.graph.document import TRAINING_PARAMS
from app.graph.errors import GraphError
from app.graph.mutations import Connect
from app.graph.specs import ParamType, all_specs
from app.ui.block_ops import BlockOps
from app.ui.canvas.scene import GraphScene
from app.ui.clipboard import copy_fragment, paste_mutation
from app.ui.document_holder import DocumentHolder
from app.ui.editor import Editor
from tests.property_budget import examples

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
    "group",
    "ungroup",
    "unique",
    "repeat",
    "enter",
    "leave",
)
BLOCK_OPS = ("group", "ungroup", "unique", "repeat", "enter", "leave")


class Status:
    """A status bar that keeps the last message."""

    message = ""

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self.message = text


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


def block_op(blocks: BlockOps, op: str, a: int, b: int) -> None:
    """One block command or move between graphs, through the selection like the menu."""
    editor, scene = blocks.editor, blocks.scene
    graph = editor.graph
    ids = list(graph.nodes)
    users = [n for n in ids if graph.nodes[n].block is not None]
    picked = users[a % len(users)] if users else None

    def select(chosen: list[str]) -> None:
        scene.clearSelection()
        for node_id in chosen:
            scene.node_item(node_id).setSelected(True)

    if op == "group" and ids:
        select(ids[a % len(ids) : a % len(ids) + 1 + b % 3])
        blocks.group()
    elif op == "leave" and editor.scope.path:
        editor.scope.up(b % len(editor.scope.path))
    elif picked is None:
        return
    elif op == "ungroup":
        select([picked])
        blocks.ungroup()
    elif op == "unique":
        select([picked])
        blocks.make_unique()
    elif op == "repeat":
        editor.set_param(picked, "repeat", 1 + b % 3)
    elif op == "enter":
        editor.scope.enter(picked)


def apply_op(editor: Editor, op: str, a: int, b: int, blocks: BlockOps | None = None) -> None:
    """One edit chosen by ``op`` with ``a``/``b`` picking its targets (may be refused), made
    in the graph the editor shows (the document's own or an open block's inside)."""
    if op in BLOCK_OPS:
        if blocks is not None:
            block_op(blocks, op, a, b)
        return
    doc = editor.graph
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
        at = (float(a % 500), float(b % 500))
        try:  # a block's input or output node pasted outside its block is refused
            paste = paste_mutation(editor.document, fragment, at, editor.scope.definition)[0]
        except GraphError:
            return
        editor.push(paste, scoped=False)
    elif op == "insert" and doc.edges:
        spec = SPECS[b % len(SPECS)]
        editor.add_node(spec.type_id, QPointF(0, 0), on_wire=doc.edges[a % len(doc.edges)])


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.integers(0, 10_000)), max_size=25
    )
)
def test_random_edits_then_undo_all_restores_the_original(qapp, edits) -> None:
    edit_undo_redo(edits)


def edit_undo_redo(edits: list[tuple[str, int, int]]) -> list[str]:
    """Make ``edits``, undo them all, redo them all, checking the document and the canvas;
    returns the undo texts."""
    holder = DocumentHolder(digits_document())
    stack, doc = holder.undo_stack, holder.document
    editor = Editor(holder)
    scene = GraphScene(holder)
    blocks = BlockOps(editor, scene, Status())
    original = doc.to_dict()
    for op, a, b in edits:
        apply_op(editor, op, a, b, blocks)
        assert_scene_shows(scene, editor)
    edited = doc.to_dict()
    texts = [stack.text(i) for i in range(stack.count())]
    while stack.canUndo():
        stack.undo()
        assert_scene_shows(scene, editor)
    assert doc.to_dict() == original
    while stack.canRedo():
        stack.redo()
        assert_scene_shows(scene, editor)
    assert doc.to_dict() == edited
    holder.detach()
    return texts


def test_a_block_session_makes_every_kind_of_block_step(qapp) -> None:
    """The block operations the random test draws do happen (not all refused)."""
    texts = edit_undo_redo(
        [
            ("group", 1, 1),  # linear_1, relu_1
            ("add", 0, 0),
            ("paste", 1, 0),  # a second block node
            ("enter", 0, 0),
            ("param", 0, 2),  # inside: every use changes
            ("add", 5, 5),
            ("leave", 0, 0),
            ("repeat", 0, 1),
            ("unique", 1, 0),
            ("ungroup", 0, 0),
        ]
    )
    assert texts[0].startswith("Group 2 nodes into block")
    assert any(t.endswith("in 'block'") for t in texts)
    assert any(t.startswith("Set Repeat") for t in texts)
    assert any(t.startswith("Make block") for t in texts)
    assert texts[-1].startswith("Ungroup block")


def assert_scene_shows(scene: GraphScene, editor: Editor) -> None:
    """The canvas shows exactly the graph of the editor's scope, which exists."""
    graph = editor.document
    for node_id in editor.scope.path:  # the open path still exists (no stale canvas)
        block = graph.nodes[node_id].block
        assert block is not None
        graph = block.body
    assert graph is editor.graph
    assert {i.node_id for i in scene.node_items()} == set(graph.nodes)
    assert len(scene.edge_items()) == len(graph.edges)
