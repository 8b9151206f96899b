"""Typed errors of the graph model, all derived from :class:`GraphError`.

Each error carries the node id and port (or parameter) it is about when it has one, so the editor
can put a badge on the right node and the command line can name the culprit.
"""

from __future__ import annotations

from collections.abc import Iterable


class GraphError(Exception):
    """Base of every error raised by ``app.graph``.

    Parameters
    ----------
    message
        What went wrong, in words, with the fix where there is one.
    node_id
        The node at fault, when there is one.
    port
        The port or parameter name at fault, when there is one.
    """

    def __init__(self, message: str, node_id: str | None = None, port: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.port = port


class CycleError(GraphError):
    """A wire would close a loop, or the graph holds one; ``nodes`` lists the loop in order."""

    def __init__(self, message: str, nodes: Iterable[str] = ()) -> None:
        self.nodes = tuple(nodes)
        super().__init__(message, self.nodes[0] if self.nodes else None)


class PortKindError(GraphError):
    """A wire joins ports of incompatible kinds, or names a port the node does not have."""


class ShapeError(GraphError):
    """A node cannot accept the shape arriving on one of its inputs (the message gives the fix)."""


class UnknownNodeType(GraphError):  # noqa: N818 (the name is in docs/CONTRACTS.md)
    """A type id that no :class:`~app.graph.specs.NodeSpec` declares."""

    def __init__(self, type_id: str, node_id: str | None = None) -> None:
        self.type_id = type_id
        super().__init__(f"unknown node type {type_id!r}", node_id)


class ParamError(GraphError):
    """A parameter value of the wrong type or out of its range (``port`` is the parameter)."""


class FileFormatError(GraphError):
    """A ``.nodegrad`` or weights file that cannot be loaded.

    Parameters
    ----------
    problems
        Every problem found, each starting with its location, e.g.
        ``nodes[3].params.units: expected a positive int, got -4``.
    path
        The file, when the problems come from one.
    """

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        count = len(self.problems)
        head = f"{where}{count} problem{'s' if count != 1 else ''} in the file"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))
