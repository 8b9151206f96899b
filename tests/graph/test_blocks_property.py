"""Random block edits (group, ungroup, edit inside, repeat, make unique, expose), undone in
reverse, restore every state; each one leaves a document that saves, loads and validates."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.graph import io
from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.grouping import expose, group, hide, make_unique, ungroup
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.validate import validate
from tests.graph.test_blocks import mlp
from tests.graph.test_mutations import mutation, undo_then_redo
from tests.property_budget import examples


@st.composite
def block_edit(draw: st.DrawFn, doc: GraphDocument) -> mu.Mutation:
    blocks = sorted(doc.blocks)
    instances = [n for n in doc.nodes.values() if n.block is not None]
    pick = draw(st.integers(0, 8))
    if pick == 0 or (not blocks and pick < 7):
        ids = draw(st.lists(st.sampled_from(sorted(doc.nodes) or ["ghost"]), max_size=4))
        return group(doc, ids or ["ghost"], name=draw(st.sampled_from(["b", "stage"])))
    if pick == 1 and instances:
        return ungroup(doc, draw(st.sampled_from(instances)).id)
    if pick == 2 and instances:
        node = draw(st.sampled_from(instances))
        return mu.SetParam(node.id, "repeat", draw(st.integers(0, 3)))
    if pick == 3 and instances:
        return make_unique(doc, draw(st.sampled_from(instances)).id)
    if pick in (4, 5) and blocks:
        name = draw(st.sampled_from(blocks))
        body = doc.blocks[name].body
        if pick == 5:
            port = draw(st.sampled_from(["block_input", "block_output"]))
            return bm.EditBlock(name, mu.AddNode(mu.Node(body.new_node_id(port), port)))
        return bm.EditBlock(name, draw(mutation(body)))
    if pick == 6 and blocks:
        block = doc.blocks[draw(st.sampled_from(blocks))]
        inner = [n for n in block.body.nodes.values() if n.spec.params]
        if inner and draw(st.booleans()):
            node = draw(st.sampled_from(inner))
            param = draw(st.sampled_from(node.spec.params)).name
            return expose(doc, block.name, node.id, param)
        if block.exposed:
            return hide(doc, block.name, block.exposed[0].name)
    if pick == 7 and blocks:
        return bm.RenameBlock(draw(st.sampled_from(blocks)), draw(st.sampled_from(["z", "b"])))
    return draw(mutation(doc))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_block_edits_undone_in_reverse_restore_every_state(data: st.DataObject) -> None:
    doc = mlp()
    snapshots = [doc.to_dict()]
    undo: list[mu.Mutation] = []
    for _ in range(data.draw(st.integers(1, 14))):
        before = doc.to_dict()
        try:
            m = data.draw(block_edit(doc))
            inverse = doc.apply(m)
        except GraphError:
            assert doc.to_dict() == before, "a refused edit changed the document"
            continue
        event(f"applied {type(m).__name__}")
        undo.append(inverse)
        snapshots.append(doc.to_dict())
        assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()
        validate(doc)  # never raises, whatever the edits made
    undo_then_redo(doc, undo, snapshots)
