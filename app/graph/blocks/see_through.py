"""Validation results of a flat graph told in terms of the graph people drew with blocks.

A problem inside a block moves onto the block node of the graph (its text names the block, and
``Diagnostic.inner`` keeps the inner node's flat id, so an opened block can mark that node);
every block node, at any depth, gets the shapes of its outputs and the parameter count of its
inside; a repeated block whose output shape differs from its input's gets an error.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from app.graph.blocks.flatten import SEPARATOR
from app.graph.shapes import Diagnostic, Severity
from app.graph.specs import format_shape

if TYPE_CHECKING:
    from app.graph.blocks.flatten import FlatGraph
    from app.graph.document import GraphDocument
    from app.graph.validate import ValidationResult


def see_through_blocks(result: ValidationResult, flat: FlatGraph, doc: GraphDocument) -> None:
    """Rewrite ``result`` (of ``flat.document``) for ``doc``, in place."""
    for key, src in flat.outputs.items():
        if src in result.shapes:
            result.shapes[key] = result.shapes[src]
    for flat_id, count in list(result.param_counts.items()):
        for block_id in flat.enclosing(flat_id):
            result.param_counts[block_id] = result.param_counts.get(block_id, 0) + count
    moved: list[Diagnostic] = []
    seen: set[tuple[object, ...]] = set()
    repeated = {k.rsplit(SEPARATOR, 1)[-1] for k, v in flat.instances.items() if k != v}
    for d in result.diagnostics:
        if (d.node_id, d.port) in flat.refused:
            continue  # told by the flattening problem that refused the wire
        if d.node_id is None or flat.top(d.node_id) == d.node_id:
            moved.append(d)
            continue
        steps = [_step(s, repeated) for s in flat.origin.get(d.node_id, (d.node_id,))]
        same = (d.severity, d.message, tuple(step for step, _ in steps))
        if same in seen:
            continue  # the same problem in another repetition of the block
        seen.add(same)
        moved.append(_onto_block(d, flat, doc, steps))
    repeats = _repeat_problems(result, flat, doc)
    result.diagnostics[:] = [*flat.problems, *repeats, *moved]


def _step(step: str, repeated: set[str]) -> tuple[str, int]:
    """A path step as (block node or node id, repetition): ``res1_r2`` -> ``("res1", 2)``;
    ``repeated`` holds the steps that are repetitions."""
    if step in repeated:
        base, _, k = step.rpartition("_r")
        return base, int(k)
    return step, 1


def _onto_block(
    d: Diagnostic, flat: FlatGraph, doc: GraphDocument, steps: list[tuple[str, int]]
) -> Diagnostic:
    assert d.node_id is not None
    top = flat.top(d.node_id)
    node = doc.nodes.get(top)
    where = node.display_name if node is not None else f"'{top}'"
    path = [f"{step} (repetition {k})" if k > 1 else step for step, k in steps[1:]]
    if steps[0][1] > 1:
        where += f" (repetition {steps[0][1]})"
    inside = " › ".join(path)
    return dataclasses.replace(
        d,
        message=f"In block {where} › {inside}: {d.message}",
        node_id=top,
        port=None,
        inner=d.node_id,
    )


def _repeat_problems(
    result: ValidationResult, flat: FlatGraph, doc: GraphDocument
) -> list[Diagnostic]:
    found = []
    for block_id, times in flat.repeats.items():
        if times < 2:
            continue
        ins = [s for (b, _), s in flat.inputs.items() if b == block_id]
        outs = [s for (b, _), s in flat.outputs.items() if b == block_id]
        if len(ins) != 1 or len(outs) != 1:
            continue
        before, after = result.shapes.get(ins[0]), result.shapes.get(outs[0])
        if before is None or after is None or before == after:
            continue
        first = block_id.split(SEPARATOR)[0]
        top = flat.instances.get(first, first)
        node = doc.nodes.get(top)
        name = node.ref if node is not None else f"'{top}'"
        found.append(
            Diagnostic(
                Severity.ERROR,
                f"Block {name} repeats {times} times, but what comes out ({format_shape(after)}) "
                f"differs from what goes in ({format_shape(before)}); a repeated block must keep "
                "the shape (or set Repeat to 1)",
                top,
            )
        )
    return found
