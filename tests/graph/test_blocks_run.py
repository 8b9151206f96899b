"""Running a graph with blocks: training, stepping and gradient norms see through the blocks."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from app.graph import io
from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.blocks.flatten import flatten
from app.graph.document import GraphDocument
from app.graph.metrics import StepMetrics
from app.graph.run_view import (
    drawn_path,
    flat_title,
    members,
    norms_in_view,
    place,
    shown_id,
    worst_norm,
)
from app.graph.session import Session
from app.graph.weights_follow import follow, footprint

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RESIDUAL = ["conv1", "bn1", "relu1", "conv2", "bn2", "skip", "block_relu"]


def load(name: str) -> GraphDocument:
    return io.load(EXAMPLES / f"{name}.nodegrad")


def grouped(name: str, node_ids: list[str], block: str = "res") -> tuple[GraphDocument, str]:
    """The example with ``node_ids`` grouped; returns it and the block node's id."""
    doc = load(name)
    doc.apply(grouping.group(doc, node_ids, name=block))
    (node_id,) = (n for n, node in doc.nodes.items() if node.block is not None)
    return doc, node_id


def losses(doc: GraphDocument, steps: int) -> list[float]:
    session = Session(doc)
    events = (e for e in session.train(epochs=1) if isinstance(e, StepMetrics))
    return [m.loss for m in itertools.islice(events, steps)]


def test_grouped_graph_trains_as_the_ungrouped_one() -> None:
    plain = losses(load("xor"), 30)
    doc, _ = grouped("xor", ["hidden", "tanh"], "layer")
    assert losses(doc, 30) == plain


def test_repeated_residual_block_trains_as_its_ungrouped_copy() -> None:
    doc, block = grouped("residual_cnn", RESIDUAL)
    doc.apply(mu.SetParam(block, "repeat", 2))
    with_blocks = losses(doc, 3)
    doc.apply(grouping.ungroup(doc, block))
    assert not any(n.block for n in doc.nodes.values())
    assert losses(doc, 3) == with_blocks


def test_stepper_order_over_blocks_is_the_ungrouped_order() -> None:
    doc, block = grouped("residual_cnn", RESIDUAL)
    doc.apply(mu.SetParam(block, "repeat", 2))
    before = footprint(doc)
    order = Session(doc).stepper().order
    assert "res_1_r2__conv1" in order
    doc.apply(grouping.ungroup(doc, block))
    mapping = follow(before, footprint(doc))
    assert mapping is not None
    assert [mapping[n] for n in order] == Session(doc).stepper().order


def test_stepping_through_a_block_reaches_every_inner_node() -> None:
    doc, block = grouped("residual_cnn", RESIDUAL)
    flat = flatten(doc)
    stepper = Session(doc).stepper()
    seen = [stepper.forward_step().node_id for _ in stepper.order]
    inside = [n for n in seen if shown_id(flat, n) == block]
    assert inside == [f"{block}__{n}" for n in RESIDUAL]
    assert [shown_id(flat, n, (block,)) for n in inside] == RESIDUAL
    assert stepper.backward_step().node_id == seen[-1]
    assert stepper.value(f"{block}__conv1")["y"].ndim == 4


def test_gradient_norms_per_block_are_the_largest_inside() -> None:
    doc, block = grouped("residual_cnn", RESIDUAL)
    flat = flatten(doc)
    session = Session(doc)
    stepper = session.stepper()
    while stepper.state.phase != "done":
        stepper.backward_step()
    outputs, params = session.gradient_norms(stepper._values)
    inner = {n: v for n, v in params.items() if n.startswith(f"{block}__")}
    assert set(inner) == {f"{block}__{n}" for n in ("conv1", "bn1", "conv2", "bn2")}
    top = norms_in_view(params, flat)
    assert top[block] == max(inner.values())
    assert top["logits"] == params["logits"]
    assert "conv1" not in top
    opened = norms_in_view(params, flat, (block,))
    assert opened == {n.split("__")[1]: v for n, v in inner.items()}
    assert set(norms_in_view(outputs, flat, (block,))) >= set(RESIDUAL)


def test_a_non_finite_norm_inside_flags_the_block() -> None:
    doc, block = grouped("xor", ["hidden", "tanh"], "layer")
    flat = flatten(doc)
    norms = {f"{block}__hidden": 0.5, f"{block}__tanh": math.nan, "out": 2.0}
    shown = norms_in_view(norms, flat)
    assert math.isnan(shown[block]) and shown["out"] == 2.0
    assert worst_norm([1.0, math.inf, 3.0]) == math.inf
    assert worst_norm([1.0, 3.0]) == 3.0


def test_places_and_titles_name_the_block_path() -> None:
    doc, block = grouped("residual_cnn", RESIDUAL)
    doc.apply(mu.SetParam(block, "repeat", 2))
    doc.apply(mu.SetLabel(block, "residual"))
    flat = flatten(doc)
    assert drawn_path(flat, f"{block}_r2__conv1") == (block, "conv1")
    assert place(doc, flat, f"{block}__conv1") == "residual › conv1"
    assert place(doc, flat, f"{block}_r2__conv1") == "residual #2 › conv1"
    assert flat_title(doc, flat, f"{block}__bn1") == "BatchNorm2d 'residual › bn1'"
    assert flat_title(doc, flat, "logits") == "Linear 'logits'"
    assert members(flat, (block,))["conv1"] == [f"{block}__conv1", f"{block}_r2__conv1"]
    assert shown_id(flat, "logits", (block,)) is None


def test_nested_blocks_open_one_level_at_a_time() -> None:
    doc, inner = grouped("xor", ["hidden", "tanh"], "layer")
    doc.apply(grouping.group(doc, [inner, "out"], name="net"))
    (outer,) = (n for n, node in doc.nodes.items() if node.block and node.block.name == "net")
    flat = flatten(doc)
    fid = f"{outer}__{inner}__hidden"
    assert fid in flat.document.nodes
    assert drawn_path(flat, fid) == (outer, inner, "hidden")
    assert shown_id(flat, fid) == outer
    assert shown_id(flat, fid, (outer,)) == inner
    assert shown_id(flat, fid, (outer, inner)) == "hidden"
    norms = {fid: 3.0, f"{outer}__out": 1.0}
    assert norms_in_view(norms, flat, (outer,)) == {inner: 3.0, "out": 1.0}
    assert np.isclose(norms_in_view(norms, flat)[outer], 3.0)


def test_run_fingerprint_sees_inside_blocks() -> None:
    from app.graph.blocks.mutations import EditBlock
    from app.graph.runs import fingerprint

    doc, block = grouped("xor", ["hidden", "tanh"], "layer")
    name = doc.nodes[block].block.name  # type: ignore[union-attr]
    first = fingerprint(doc)
    doc.apply(EditBlock(name, mu.MoveNodes({"hidden": (5.0, 5.0)})))
    doc.apply(EditBlock(name, mu.SetLabel("hidden", "wide")))
    assert fingerprint(doc) == first  # neither changes what the graph computes
    doc.apply(EditBlock(name, mu.SetParam("hidden", "units", 9)))
    assert fingerprint(doc) != first
