"""Shape inference over a document, in topological order, from the dataset's real shapes.

Also the checks that need the data itself: integer inputs fed float values, class counts above the
logits' size, token ids beyond an Embedding's vocabulary. :func:`app.graph.validate.validate`
runs this after the structural checks.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.graph.document import Edge, GraphDocument, Node
from app.graph.errors import GraphError, ShapeError
from app.graph.specs import ParamType, PortKind, Role, Shape, format_shape
from engine.data import DatasetError, split_sizes

Key = tuple[str, str]


class Severity(enum.Enum):
    """How bad a diagnostic is: errors stop training, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found by validation, on a node (and port) when it has one."""

    severity: Severity
    message: str
    node_id: str | None = None
    port: str | None = None
    inner: str | None = None
    """For a problem inside a block: the flat id of the inner node (``node_id`` is the block
    node in the graph)."""


@dataclass(frozen=True)
class DataInfo:
    """What validation needs to know about the values leaving a data port."""

    integer: bool
    n_classes: int | None = None
    vocab_size: int | None = None


def infer_shapes(
    doc: GraphDocument, order: Iterable[str], wires: Mapping[Key, Edge]
) -> tuple[dict[Key, Shape], list[Diagnostic]]:
    """Shapes of every output reachable in ``order``, and the diagnostics of the nodes that
    refuse their input shapes (nodes with unknown input shapes are skipped quietly)."""
    shapes: dict[Key, Shape] = {}
    info: dict[Key, DataInfo] = {}
    found: list[Diagnostic] = []
    for node_id in order:
        node = doc.nodes[node_id]
        spec = node.spec
        in_shapes = {}
        for port in spec.inputs:
            edge = wires.get((node_id, port.name))
            if edge is not None and (edge.src, edge.src_port) in shapes:
                in_shapes[port.name] = shapes[(edge.src, edge.src_port)]
            elif not port.optional:
                break
        else:
            try:
                out = spec.infer(doc.resolved_params(node_id), in_shapes)
            except ShapeError as err:
                message = _with_fixes(doc, node, wires, err)
                found.append(Diagnostic(Severity.ERROR, message, node_id, err.port))
                continue
            shapes.update(((node_id, port), tuple(shape)) for port, shape in out.items())
            info.update(_data_info(doc, node))
            found.extend(_split_check(doc, node))
            found.extend(_data_checks(node, wires, info, shapes))
    return shapes, found


def _with_fixes(doc: GraphDocument, node: Node, wires: Mapping[Key, Edge], err: ShapeError) -> str:
    """The error's message, preceded by a one-click fix on the data node feeding the refused
    port (an option marked ``shape_fix``), and followed, for a relative file path that could
    not be read, by the folder it was looked up in."""
    message = err.message
    param = next((p for p in node.spec.params if p.name == err.port), None)
    raw = node.params.get(err.port) if err.port else None
    relative = isinstance(raw, str) and raw and not os.path.isabs(raw)
    if param is not None and param.file and relative:
        resolved = doc.resolved_params(node.id)[param.name]
        if not os.path.isfile(resolved):
            folder = doc.base_dir if doc.base_dir is not None else Path.cwd()
            message += (
                f" (the path {raw!r} is relative: it was looked up in {str(folder)!r}, "
                "the graph file's folder)"
            )
    edge = wires.get((node.id, err.port)) if err.port else None
    source = doc.nodes.get(edge.src) if edge is not None else None
    if source is None or source.spec.role is not Role.DATA:
        return message
    for option in source.spec.active_params(source.params):
        if option.shape_fix and option.type is ParamType.BOOL and not source.params[option.name]:
            return (
                f"Turn on the '{option.caption}' option of {source.display_name} "
                f"({option.help}); or: {message}"
            )
    return message


def _data_info(doc: GraphDocument, node: Node) -> dict[Key, DataInfo]:
    """Dtype, class count and vocabulary of the values leaving a data node's ports."""
    spec = node.spec
    if spec.role is Role.INPUT:
        return {(node.id, "x"): DataInfo(integer=node.params["dtype"] == "int")}
    if spec.role is not Role.DATA or spec.load is None:
        return {}
    ds = spec.load(doc.resolved_params(node.id))
    vocab = len(ds.vocab) if ds.vocab is not None else None
    return {
        (node.id, "x"): DataInfo(ds.x.dtype.kind in "biu", vocab_size=vocab),
        (node.id, "y"): DataInfo(ds.y.dtype.kind in "biu", n_classes=ds.n_classes),
    }


def _split_check(doc: GraphDocument, node: Node) -> list[Diagnostic]:
    """An error on a data node whose samples the settings' validation split cannot divide
    (one part empty), which training would refuse only when it starts."""
    fraction = doc.training.val_split
    if node.spec.role is not Role.DATA or node.spec.load is None or not fraction:
        return []
    try:
        split_sizes(node.spec.load(doc.resolved_params(node.id)), fraction)
    except DatasetError as error:
        message = str(error)
        if "validation split" not in message:
            message += "; change the Validation split in the training settings (0: none)"
        return [Diagnostic(Severity.ERROR, message, node.id)]
    return []


def _data_checks(
    node: Node, wires: Mapping[Key, Edge], info: Mapping[Key, DataInfo], shapes: Mapping[Key, Shape]
) -> list[Diagnostic]:
    """Errors where a node's inputs come straight from data that does not suit them."""
    found = []
    for port in node.spec.inputs:
        edge = wires.get((node.id, port.name))
        data = info.get((edge.src, edge.src_port)) if edge else None
        if data is None or edge is None:
            continue
        source = f"{edge.src}.{edge.src_port}"
        if port.kind is PortKind.INDICES and not data.integer:
            found.append(_error(node, port.name, _float_message(node, port.name, source)))
        if data.vocab_size and port.kind is PortKind.TENSOR and node.spec.role is Role.LAYER:
            found.append(
                Diagnostic(
                    Severity.WARNING,
                    f"{node.title} receives token ids from {source}; add an Embedding before it",
                    node.id,
                    port.name,
                )
            )
        limit = node.params.get("vocab_size")
        if data.vocab_size and limit is not None and data.vocab_size > limit:
            found.append(
                _error(
                    node,
                    port.name,
                    f"{node.title} vocab_size is {limit} but {source} holds {data.vocab_size} "
                    f"different tokens; set vocab_size to at least {data.vocab_size}",
                )
            )
        found.extend(_class_check(node, port.name, data, wires, shapes))
    return found


def _float_message(node: Node, port: str, source: str) -> str:
    if node.spec.role is Role.LOSS:
        return (
            f"{node.title} needs integer class labels on {port!r}, but {source} holds real "
            "values; use MSE loss or BCE-with-logits loss for these targets"
        )
    return f"{node.title} needs integer indices on {port!r}, but {source} holds real values"


def _class_check(
    node: Node, port: str, data: DataInfo, wires: Mapping[Key, Edge], shapes: Mapping[Key, Shape]
) -> list[Diagnostic]:
    """The logits of a classification loss must have a column per class of the targets."""
    if node.spec.role is not Role.LOSS or port != "target" or not data.n_classes:
        return []
    edge, target = wires.get((node.id, "logits")), node.spec.input("target")
    if edge is None or target is None or target.kind is PortKind.TENSOR:
        return []
    logits = shapes.get((edge.src, edge.src_port))
    if not logits or logits[-1] is None or logits[-1] == data.n_classes:
        return []
    text = (
        f"The targets have {data.n_classes} classes but the logits {format_shape(logits)} "
        f"have {logits[-1]} columns; set the units of {edge.src} to {data.n_classes}"
    )
    if logits[-1] < data.n_classes:
        return [_error(node, "logits", text)]
    extra = " (the extra columns are classes that never occur)"
    return [Diagnostic(Severity.WARNING, text + extra, node.id, "logits")]


def _error(node: Node, port: str, message: str) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, node.id, port)


def param_counts(doc: GraphDocument, shapes: Mapping[Key, Shape]) -> dict[str, int]:
    """Trainable scalars per node id, from the shapes arriving on its wires; a node whose
    count needs input shapes not known yet is left out (no count rather than a wrong one)."""
    arriving: dict[str, dict[str, Shape]] = {}
    for e in doc.edges:
        if (e.src, e.src_port) in shapes:
            arriving.setdefault(e.dst, {})[e.dst_port] = shapes[(e.src, e.src_port)]
    counts: dict[str, int] = {}
    for node_id, node in doc.nodes.items():
        try:
            counts[node_id] = node.spec.param_count(node.params, arriving.get(node_id, {}))
        except (GraphError, LookupError, TypeError, ValueError):
            continue
    return counts
