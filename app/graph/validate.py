"""Validation: structural checks on a ``networkx.DiGraph`` of the document, then shape inference.

Reports, per node: cycles (naming the nodes of the loop), required inputs left unconnected, a
model without a loss or a dataset, nodes no data reaches or whose output reaches no loss
(warnings), kind mismatches, and every shape a node cannot accept (with both shapes and the fix).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from app.graph.blocks.flatten import FlatTooLargeError, flatten
from app.graph.blocks.see_through import see_through_blocks
from app.graph.document import Edge, GraphDocument
from app.graph.memory import MemoryEstimate, estimate_memory, format_bytes, total_memory
from app.graph.mutations import wire_problem
from app.graph.shapes import Diagnostic, Key, Severity, infer_shapes, param_counts
from app.graph.specs import Role, Shape, format_shape

__all__ = ["Diagnostic", "Severity", "ValidationResult", "format_shape", "validate"]


@dataclass
class ValidationResult:
    """Everything validation found.

    Attributes
    ----------
    diagnostics
        Errors and warnings, graph-wide ones first, then per node in topological order.
    shapes
        ``(node_id, output port) -> shape`` for every output whose shape is known.
    order
        Node ids in topological order (nodes on a loop left out).
    param_counts
        Trainable scalars per node id, for every node whose count is known.
    memory
        What training the graph needs (parameters and outputs at the batch size); None until
        validation has run.
    """

    diagnostics: list[Diagnostic] = field(default_factory=list)
    shapes: dict[Key, Shape] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    param_counts: dict[str, int] = field(default_factory=dict)
    memory: MemoryEstimate | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of severity ERROR."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics of severity WARNING."""
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    def for_node(self, node_id: str) -> list[Diagnostic]:
        """The diagnostics about ``node_id``."""
        return [d for d in self.diagnostics if d.node_id == node_id]

    def edge_shape(self, edge: Edge) -> Shape | None:
        """The shape travelling along ``edge``, or None when unknown."""
        return self.shapes.get((edge.src, edge.src_port))


def build_graph(doc: GraphDocument) -> nx.DiGraph:
    """A ``networkx.DiGraph`` with one vertex per node and an arc per wire (ports as data)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(doc.nodes)
    for e in doc.edges:
        graph.add_edge(e.src, e.dst, ports=(e.src_port, e.dst_port))
    return graph


def validate(doc: GraphDocument) -> ValidationResult:
    """Check ``doc`` and infer the shape of every wire.

    A document with blocks is checked as its flat graph (:mod:`app.graph.blocks.flatten`):
    ``shapes``, ``order`` and ``param_counts`` use flat ids (``res1__conv``) and also hold
    the block nodes (their outputs' shapes, their inner nodes' counts); a problem inside a
    block is on the block node, with the inner node's flat id as ``inner``.

    Examples
    --------
    >>> from app.graph.document import GraphDocument
    >>> result = validate(GraphDocument())
    >>> result.ok, [d.message for d in result.errors][0][:25]
    (False, 'The model has no Dataset:')
    """
    try:
        flat = flatten(doc)
    except FlatTooLargeError as error:
        result = ValidationResult()
        result.diagnostics.append(Diagnostic(Severity.ERROR, error.message, error.node_id))
        return result
    result = _validate_plain(flat.document)
    if flat.document is not doc:
        see_through_blocks(result, flat, doc)
    return result


def _validate_plain(doc: GraphDocument) -> ValidationResult:
    """:func:`validate` of a graph without block nodes."""
    graph = build_graph(doc)
    result = ValidationResult()
    report = result.diagnostics
    report.extend(_role_checks(doc))
    looped = _cycle_checks(graph, report)
    result.order = list(nx.topological_sort(graph.subgraph(n for n in graph if n not in looped)))
    wires = {(e.dst, e.dst_port): e for e in doc.edges}
    per_node: dict[str | None, list[Diagnostic]] = {}
    for d in _port_checks(doc, wires) + _reach_checks(doc, graph, looped) + _twice_applied(doc):
        per_node.setdefault(d.node_id, []).append(d)
    shapes, shape_problems = infer_shapes(doc, result.order, wires)
    result.shapes = shapes
    result.param_counts = param_counts(doc, shapes)
    for d in shape_problems:
        per_node.setdefault(d.node_id, []).append(d)
    result.memory, node_bytes = estimate_memory(doc, result.order, shapes, wires)
    memory_problem = _memory_check(doc, result.memory, node_bytes, total_memory())
    if memory_problem is not None:
        per_node.setdefault(memory_problem.node_id, []).insert(0, memory_problem)
    for node_id in [*result.order, *(n for n in doc.nodes if n in looped)]:
        report.extend(per_node.get(node_id, ()))
    return result


def _memory_check(
    doc: GraphDocument, memory: MemoryEstimate, node_bytes: Mapping[str, int], limit: int | None
) -> Diagnostic | None:
    """An error on the largest node when training needs more memory than the machine has."""
    if limit is None or memory.total_bytes <= limit or memory.largest_node is None:
        return None
    node = doc.nodes[memory.largest_node]
    return Diagnostic(
        Severity.ERROR,
        f"Training this model needs about {format_bytes(memory.total_bytes)} at batch size "
        f"{doc.training.batch_size}, more than this machine's {format_bytes(limit)}; "
        f"{node.display_name} alone holds {format_bytes(node_bytes[node.id])}: make it smaller "
        "(or lower the batch size)",
        node.id,
    )


def _role_checks(doc: GraphDocument) -> list[Diagnostic]:
    """A model needs one Dataset and a loss; at most one Output."""
    by_role: dict[Role, list[str]] = {}
    for node in doc.nodes.values():
        by_role.setdefault(node.spec.role, []).append(node.id)
    found = []
    if not by_role.get(Role.DATA):
        found.append(_graph_error("The model has no Dataset: add one from the Data section"))
    if not by_role.get(Role.LOSS):
        found.append(
            _graph_error(
                "The model has no loss: add one from the Losses section and wire the prediction "
                "and the dataset's y into it"
            )
        )
    for role, title in ((Role.DATA, "Dataset"), (Role.OUTPUT, "Output")):
        extra = by_role.get(role, [])[1:]
        for node_id in extra:
            found.append(
                Diagnostic(
                    Severity.ERROR,
                    f"The model has more than one {title} ({', '.join(by_role[role])}); keep one",
                    node_id,
                )
            )
    return found


def _graph_error(message: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message)


def _cycle_checks(graph: nx.DiGraph, report: list[Diagnostic]) -> set[str]:
    """Report every loop (an error on each of its nodes); return the nodes on loops."""
    looped: set[str] = set()
    if nx.is_directed_acyclic_graph(graph):
        return looped
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2 and not any(graph.has_edge(n, n) for n in component):
            continue
        cycle = [u for u, _ in nx.find_cycle(graph.subgraph(component))]
        names = " → ".join([*cycle, cycle[0]])
        for node_id in cycle:
            report.append(
                Diagnostic(
                    Severity.ERROR,
                    f"This node is part of a loop: {names}; a graph runs front to back (use an "
                    "RNN or LSTM node for recurrence)",
                    node_id,
                )
            )
        looped |= component
    return looped


def _port_checks(doc: GraphDocument, wires: Mapping[Key, Edge]) -> list[Diagnostic]:
    """Unconnected required inputs, and wires the wire rule refuses (kinds, ports)."""
    found = []
    for node in doc.nodes.values():
        for port in node.spec.inputs:
            edge = wires.get((node.id, port.name))
            if edge is None:
                if not port.optional:
                    takes = f"; it takes {port.help}" if port.help else ""
                    found.append(
                        Diagnostic(
                            Severity.ERROR,
                            f"{node.title}: input {port.name!r} is not connected{takes}",
                            node.id,
                            port.name,
                        )
                    )
                continue
            problem = wire_problem(doc.nodes, edge)
            if problem is not None:
                found.append(Diagnostic(Severity.ERROR, problem[1].message, node.id, port.name))
    return found


def _twice_applied(doc: GraphDocument) -> list[Diagnostic]:
    """Warnings where a loss's prediction comes from the activation the loss applies itself."""
    found = []
    for node in doc.nodes.values():
        applies = node.spec.applies
        first = node.spec.inputs[0].name if node.spec.inputs else None
        edge = doc.input_edge(node.id, first) if applies and first else None
        source = doc.nodes[edge.src] if edge is not None else None
        if source is None or source.type_id != applies:
            continue
        found.append(
            Diagnostic(
                Severity.WARNING,
                f"{source.display_name} feeds {node.display_name}, which applies "
                f"{source.spec.title} itself: applied twice, training stalls. Wire the layer "
                f"before the {source.spec.title} into {first!r} (keep the {source.spec.title} "
                "for an Output node if you want probabilities)",
                node.id,
                first,
            )
        )
    return found


def _reach_checks(doc: GraphDocument, graph: nx.DiGraph, looped: set[str]) -> list[Diagnostic]:
    """Warnings for nodes no data reaches and nodes whose output reaches no loss or Output."""
    sources = [n.id for n in doc.nodes.values() if not n.spec.inputs]
    sinks = [n.id for n in doc.nodes.values() if n.spec.role in (Role.LOSS, Role.OUTPUT)]
    fed = _closure(graph, sources, nx.descendants)
    used = _closure(graph, sinks, nx.ancestors)
    found = []
    for node in doc.nodes.values():
        if node.id in looped or node.spec.role in (Role.LOSS, Role.OUTPUT):
            continue
        wired = all(p.optional or doc.input_edge(node.id, p.name) for p in node.spec.inputs)
        if node.id not in fed and wired:
            found.append(
                Diagnostic(
                    Severity.WARNING,
                    f"{node.title} is not reachable from any input: no data flows into it",
                    node.id,
                )
            )
        if node.id not in used and sinks:
            found.append(
                Diagnostic(
                    Severity.WARNING,
                    f"{node.title}'s output reaches no loss or Output; "
                    "it does not take part in training",
                    node.id,
                )
            )
    return found


def _closure(
    graph: nx.DiGraph, start: list[str], step: Callable[[nx.DiGraph, str], set[str]]
) -> set[str]:
    seen = set(start)
    for node_id in start:
        seen |= step(graph, node_id)
    return seen
