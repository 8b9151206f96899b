"""The model plan of a graph with blocks: one class per block definition it uses (a ``Layer``
for the engine, an ``nn.Module`` for PyTorch), built with the block's exposed parameters as
constructor arguments and wired by its ``forward``; a repeated block node is one instance per
repetition, chained, each with its own weights; blocks inside blocks are attributes of their
class. ``Model`` holds the graph's own nodes and an instance per block node.

The classes are checked to compute exactly what the flat graph computes (see
:mod:`app.graph.export.block_scope`), and the engine's to build its modules in the flat graph's
order (so a script seeded like the editor starts from the editor's weights). When that cannot
be (a loss inside a block, blocks wired in a loop, a block used where its inside's order
differs), the model is written flat, as a graph without blocks is.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import engine
from app.graph.blocks.definition import BlockDefinition, dependency_order, walk_blocks
from app.graph.blocks.flatten import repetition_step
from app.graph.export.block_code import ClassCode, UnfaithfulError, join
from app.graph.export.block_probe import follows
from app.graph.export.block_scope import ScopeWriter
from app.graph.export.common import RESERVED, Flavor, ModelPlan
from app.graph.specs.base import Role

if TYPE_CHECKING:
    from app.graph.blocks.flatten import FlatGraph
    from app.graph.document import GraphDocument

# Names a script binds at module level that a class name could shadow.
SCRIPT_NAMES = {
    "Model", "Layer", "Tensor", "Path", "DataLoader", "DistributedSampler", "TensorDataset",
    "DistributedDataParallel",
}  # fmt: skip
FLAT_NOTICE = "Written flat, without a class per block: "
ENGINE_ORDER = (
    "the block classes would build the layers in another order than the editor, so the "
    "script would not start from the editor's weights (the PyTorch export keeps the classes)"
)
NOTICE_LENGTH = 240


def plan_blocks(
    document: GraphDocument, flat: FlatGraph, plan: ModelPlan, flavor: Flavor
) -> ModelPlan:
    """``plan`` (the flat graph's) rewritten with a class per block definition ``document``
    uses; ``plan`` itself, with a ``notice`` saying why, when the classes cannot compute
    exactly what it does."""
    try:
        blocked = _class_plan(document, flat, plan, flavor)
    except UnfaithfulError as error:
        return _flat(plan, str(error))
    if blocked.prediction_needs_y != plan.prediction_needs_y:
        return _flat(plan, "the block classes would compute the prediction from the targets")
    if flavor == "engine" and list(blocked.modules.values()) != list(plan.modules.values()):
        # built in another order: the seeded weights would not be the editor's
        return _flat(plan, ENGINE_ORDER)
    return blocked


def _flat(plan: ModelPlan, reason: str) -> ModelPlan:
    """The flat ``plan`` with its one-line notice."""
    text = " ".join(f"{FLAT_NOTICE}{reason}".split())
    if len(text) > NOTICE_LENGTH:
        text = text[: NOTICE_LENGTH - 1] + "…"
    return dataclasses.replace(plan, notice=text)


def _class_plan(
    document: GraphDocument, flat: FlatGraph, plan: ModelPlan, flavor: Flavor
) -> ModelPlan:
    roots = [n.block for n in document.nodes.values() if n.block is not None]
    used = {b.name: b for b in walk_blocks(roots)}
    uses = _uses(document, flat.repeats, plan.order)
    names = _class_names(used.values(), plan.support)
    classes: dict[str, ClassCode] = {}
    for block in dependency_order(used):
        try:
            classes[block.name] = _class_code(
                block, names[block.name], uses, flat, plan, flavor, classes
            )
        except UnfaithfulError as error:
            raise UnfaithfulError(f"{error} (block '{block.name}')") from None
    top = ScopeWriter(document, [""], (), flavor, plan.nodes, flat.repeats, classes)
    top.write()
    modules: dict[str, str] = {}
    for member in top.members:
        if member.cls is None:
            modules[member.attribute] = member.step
        else:
            modules.update(member.cls.modules(member.step, member.attribute))
    losses = [
        n for n in plan.order if n in document.nodes and document.nodes[n].spec.role is Role.LOSS
    ]
    source = _prediction_source(document, plan.order)
    return dataclasses.replace(
        plan,
        attributes=top.attributes,
        statements=top.statements,
        loss=" + ".join(top.vars[(n, document.nodes[n].spec.outputs[0].name)] for n in losses),
        prediction=top.vars[source] if source is not None else plan.prediction,
        modules=modules,
        y_dependent=top.y_dependent,
        classes=[classes[b.name].lines(_base(flavor)) for b in dependency_order(used)],
    )


def _class_code(
    block: BlockDefinition,
    name: str,
    uses: dict[str, list[str]],
    flat: FlatGraph,
    plan: ModelPlan,
    flavor: Flavor,
    classes: dict[str, ClassCode],
) -> ClassCode:
    """The class of one block definition (the classes of the blocks it uses in ``classes``)."""
    follow = follows(block, uses[block.name], plan.nodes, flat.document, flat.repeats)
    writer = ScopeWriter(
        block.body,
        uses[block.name],
        block.exposed,
        flavor,
        plan.nodes,
        flat.repeats,
        classes,
        follow,
    )
    writer.write()
    return writer.class_code(name, block.name)


def _base(flavor: Flavor) -> str:
    return "Layer" if flavor == "engine" else "nn.Module"


def _uses(
    document: GraphDocument, repeats: dict[str, int], order: list[str]
) -> dict[str, list[str]]:
    """Definition name -> the flat prefixes of its uses (``res1``, ``res1_r2``,
    ``outer__inner``), earliest built first."""
    found: dict[str, list[str]] = {}

    def visit(graph: GraphDocument, prefix: str) -> None:
        for node in graph.nodes.values():
            if node.block is None:
                continue
            for k in range(1, repeats.get(join(prefix, node.id), 1) + 1):
                step = join(prefix, repetition_step(node.id, k))
                found.setdefault(node.block.name, []).append(step)
                visit(node.block.body, step)

    visit(document, "")
    index = {flat: i for i, flat in enumerate(order)}

    def first(prefix: str) -> int:
        return min((i for f, i in index.items() if f.startswith(prefix + "__")), default=len(index))

    return {name: sorted(prefixes, key=first) for name, prefixes in found.items()}


def _class_names(blocks: Iterable[BlockDefinition], support: list[str]) -> dict[str, str]:
    """Block name -> a CapWords class name that shadows nothing the script uses."""
    taken = set(SCRIPT_NAMES) | set(RESERVED) | set(dir(builtins)) | set(dir(engine))
    for code in support:
        taken.update(re.findall(r"^class (\w+)", code, flags=re.MULTILINE))
    names: dict[str, str] = {}
    for block in blocks:
        words = [w for w in re.split(r"[^A-Za-z0-9]+", block.name) if w]
        base = "".join(w[:1].upper() + w[1:] for w in words) or "Block"
        if base[0].isdigit():
            base = f"Block{base}"
        elif base.isupper() or (base in taken and not base.endswith("Block")):
            base += "Block"  # MLP -> MLPBlock (no constant), Linear -> LinearBlock
        name, k = base, 2
        while name in taken:
            name, k = f"{base}{k}", k + 1
        taken.add(name)
        names[block.name] = name
    return names


def _prediction_source(document: GraphDocument, order: list[str]) -> tuple[str, str] | None:
    """What the metrics read, as the flat plan finds it: the Output node's input, else the
    first loss's first input (block nodes are outputs of the graph's own nodes)."""
    top = [n for n in order if n in document.nodes]
    candidates = [n for n in top if document.nodes[n].spec.role is Role.OUTPUT]
    candidates += [n for n in top if document.nodes[n].spec.role is Role.LOSS]
    for node_id in candidates:
        for port in document.nodes[node_id].spec.inputs:
            edge = document.input_edge(node_id, port.name)
            if edge is not None:
                return edge.src, edge.src_port
    return None
