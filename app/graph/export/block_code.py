"""The pieces of the classes an export writes for block definitions: constructor arguments
(:class:`Arg`), the marks that stand for them while a code template is filled
(:class:`Marker`), values that can be written as literals, and a class's lines
(:class:`ClassCode`).

A block class must compute exactly what its nodes compute in the flat graph, for every place the
block is used; when it cannot (:class:`UnfaithfulError`), the export writes the model flat instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.graph.blocks.flatten import SEPARATOR

LINE_LENGTH = 100
MARK = re.compile("\x00([0-9]+)\x00")
NO_DEFAULT: Any = object()


class UnfaithfulError(Exception):
    """The blocks cannot be written as classes that compute what the flat graph computes."""


class Marker(str):
    """A template value standing for constructor argument ``index``: it is written as the
    same mark whatever the placeholder's conversion or format, so the filled template shows
    where the argument goes (and a template that does more than paste it is caught)."""

    def __new__(cls, index: int) -> Marker:
        return super().__new__(cls, f"\x00{index}\x00")

    def __format__(self, spec: str) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return str.__str__(self)


def join(prefix: str, step: str) -> str:
    """The flat id of ``step`` inside the use ``prefix`` (``""``: the graph itself)."""
    return f"{prefix}{SEPARATOR}{step}" if prefix else step


def is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` reads back (as a literal) as the same value of the same type."""
    try:
        back = ast.literal_eval(repr(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return type(back) is type(value) and bool(back == value)


def from_code(text: Any) -> Any:
    """The value a code fragment a spec inferred (``"32"``, ``"(3, 3)"``) stands for.

    Raises
    ------
    UnfaithfulError
        When the fragment is not a literal written as ``repr`` writes it (``"0, 2, 1"``).
    """
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise UnfaithfulError(f"{text!r} is not a literal") from None
    if repr(value) != text:
        raise UnfaithfulError(f"{text!r} is not written as a literal")
    return value


@dataclass
class Arg:
    """A constructor argument of a block class.

    Attributes
    ----------
    name
        The argument's name (an identifier, unique in the class).
    values
        Its value at each use of the block (the use's flat prefix -> value).
    default
        Its default (the definition's own value), or ``NO_DEFAULT``.
    exposed
        The exposed parameter it stands for (empty: a value that differs between uses).
    stored
        Whether the forward pass reads it (kept as ``self.<name>``).
    origin
        For a value a node inferred: ``(node path inside the block, value name)``.
    """

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    default: Any = NO_DEFAULT
    exposed: str = ""
    stored: bool = False
    origin: tuple[str, str] | None = None

    @property
    def written(self) -> str:
        """The argument in the signature: ``name`` or ``name=default``."""
        return self.name if self.default is NO_DEFAULT else f"{self.name}={self.default!r}"


@dataclass
class Member:
    """An attribute of a class that holds something built: a node's module (``cls`` None) or
    an instance of a block class; ``step`` is the node id (or repetition step) it stands for."""

    attribute: str
    step: str
    cls: ClassCode | None = None


@dataclass
class ClassCode:
    """A block definition written as a class (a ``Layer`` or an ``nn.Module``).

    Attributes
    ----------
    name
        The class name (CapWords).
    block
        The definition's name.
    inputs, outputs
        The block's port names (port node ids), in the order ``forward`` takes and returns them.
    args
        The constructor arguments, in signature order.
    members
        The attributes that hold something built, in build order.
    init, forward
        The constructor's and the forward pass's body lines (after ``super().__init__()``).
    params
        The forward pass's argument names, one per input.
    """

    name: str
    block: str
    inputs: list[str]
    outputs: list[str]
    args: list[Arg]
    members: list[Member]
    init: list[str]
    forward: list[str]
    params: list[str]

    def exposed_arg(self, exposed: str) -> Arg | None:
        """The argument standing for the exposed parameter ``exposed`` (None: not used)."""
        return next((a for a in self.args if a.exposed == exposed), None)

    def modules(self, prefix: str, path: str) -> Iterator[tuple[str, str]]:
        """``(attribute path, flat id)`` of every node module inside the instance at the flat
        prefix ``prefix``, held at ``path`` (``res1`` -> ``res1.conv1``), in build order."""
        for member in self.members:
            where, flat = f"{path}.{member.attribute}", join(prefix, member.step)
            if member.cls is None:
                yield where, flat
            else:
                yield from member.cls.modules(flat, where)

    def lines(self, base: str) -> list[str]:
        """The class's source lines, ``base`` its base class."""
        safe = re.sub(r"[^A-Za-z0-9_]", "_", self.block)
        signature = wrap("def __init__(", ["self", *(a.written for a in self.args)], "):", 1)
        forward = wrap("def forward(", ["self", *self.params], "):", 1)
        return [
            f"class {self.name}({base}):",
            f'    """The block ``{safe}``: its nodes, built and run in the editor\'s order."""',
            "",
            *signature,
            "        super().__init__()",
            *(f"        {line}" for line in self.init),
            "",
            *forward,
            *(f"        {line}" for line in self.forward),
        ]


def wrap(head: str, items: list[str], tail: str, level: int) -> list[str]:
    """``head`` + the comma-separated ``items`` + ``tail`` at indentation ``level``, one item a
    line (with a trailing comma, as ruff formats it) when that is too long for one line."""
    pad = "    " * level
    line = f"{pad}{head}{', '.join(items)}{tail}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"{pad}{head}", *(f"{pad}    {item}," for item in items), f"{pad}{tail.lstrip()}"]


def call_text(attribute: str, head: str, items: list[str], level: int) -> str:
    """A constructor call ``head(items)`` as the expression of ``self.<attribute> = ...``
    written at indentation ``level`` (continuation lines indented for that place)."""
    assign = f"self.{attribute} = "
    lines = wrap(f"{assign}{head}(", items, ")", level)
    return "\n".join([lines[0].strip()[len(assign) :], *lines[1:]])
