"""The declaration types of node specs: ports, parameters, code templates and :class:`NodeSpec`.

A node type is data. Its :class:`NodeSpec` says what the palette shows (title, category, help),
what the inspector edits (:class:`ParamSpec`), what the wires carry (:class:`PortSpec`), and
holds the hooks validation, compilation and export call: ``infer``, ``build``, ``forward`` and the
code templates. Nothing outside ``app/graph/specs`` lists node types.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.graph.errors import ParamError

if TYPE_CHECKING:
    from engine.data import Dataset

Shape = tuple[int | None, ...]
Shapes = Mapping[str, Shape]


class Category(enum.Enum):
    """Palette sections, in palette order; ``value`` is the display name."""

    DATA = "Data"
    LAYERS = "Layers"
    ACTIVATIONS = "Activations"
    RECURRENT = "Recurrent"
    TENSOR_OPS = "Tensor ops"
    LOSSES = "Losses"
    OUTPUT = "Output"
    BLOCKS = "Blocks"


class PortKind(enum.Enum):
    """What a wire carries.

    ``TENSOR`` float activations; ``INDICES`` integer class labels or token ids; ``LOSS`` a scalar
    loss; ``DATA`` a dataset column, which may feed ``TENSOR`` or ``INDICES`` inputs (its real
    dtype is checked by validation); ``ANY`` a block's port seen from inside the block, which
    passes on whatever the outside wires to it (checked once the block is flattened).
    """

    TENSOR = "tensor"
    INDICES = "indices"
    LOSS = "loss"
    DATA = "data"
    ANY = "any"


def kinds_compatible(out_kind: PortKind, in_kind: PortKind) -> bool:
    """Whether an output of ``out_kind`` may be wired into an input of ``in_kind``.

    Examples
    --------
    >>> kinds_compatible(PortKind.DATA, PortKind.INDICES)
    True
    >>> kinds_compatible(PortKind.LOSS, PortKind.TENSOR)
    False
    """
    if out_kind is in_kind or PortKind.ANY in (out_kind, in_kind):
        return True
    return out_kind is PortKind.DATA and in_kind in (PortKind.TENSOR, PortKind.INDICES)


class ParamType(enum.Enum):
    """The value type of a parameter (the inspector picks its editor from it)."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"
    STR = "str"


class Role(enum.Enum):
    """How the runtime treats a node.

    ``DATA`` batches enter here (outputs ``x`` and ``y``); ``INPUT`` a tensor fed by the caller;
    ``LOSS`` the node whose output is minimised; ``OUTPUT`` the prediction head metrics read;
    ``LAYER`` holds trainable parameters; ``OP`` a parameter-free computation.
    """

    DATA = "data"
    INPUT = "input"
    LAYER = "layer"
    OP = "op"
    LOSS = "loss"
    OUTPUT = "output"


def show_value(value: Any, limit: int = 40) -> str:
    """A value as a short one-line text for error messages: ``-4``, ``'8'``, ``a list``.

    Containers are named, not printed (they may be huge or deeply nested); long texts and
    numbers are cut to about ``limit`` characters.
    """
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        return "a number too large to use"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_text(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class PortSpec:
    """One input or output port of a node type."""

    name: str
    kind: PortKind = PortKind.TENSOR
    optional: bool = False
    help: str = ""
    target: bool = False
    """The port carries the batch's targets (a Dataset's ``y``): never wired into a layer."""
    label: str = ""
    """The name people read when it differs from ``name`` (a block's renamed port)."""

    @property
    def title(self) -> str:
        """The name people read: ``label``, else ``name``."""
        return self.label or self.name


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a node type: its type, default, allowed range or choices and help.

    ``when`` = ``(other_param, values)`` means the parameter only matters while ``other_param``
    has one of ``values`` (the inspector may hide it). ``check`` is an extra rule on the value: it
    returns the reason a value is refused, or None. ``file`` marks a string naming a file: kept as
    written, and a relative one is read from the folder of the graph file (see
    :meth:`NodeSpec.resolve_files`). ``label`` is the name people read (default: the name,
    sentence case, e.g. ``Learning rate``); :attr:`caption` gives it.
    """

    name: str
    type: ParamType
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    when: tuple[str, tuple[Any, ...]] | None = None
    check: CheckFn | None = None
    file: bool = False
    label: str = ""
    shape_fix: bool = False
    """A BOOL option of a data node that, turned on, gives its data the shape layers such as
    Conv2d expect (digits ``images``): validation offers it first when they refuse the shape."""

    @property
    def caption(self) -> str:
        """The name people read: ``label``, else ``units_out`` -> ``Units out``."""
        return self.label or self.name.replace("_", " ").capitalize()

    def is_active(self, params: Mapping[str, Any]) -> bool:
        """Whether this parameter matters for the values ``params`` (its ``when`` holds)."""
        return self.when is None or params.get(self.when[0]) in self.when[1]

    def coerce(self, value: Any) -> Any:
        """Return ``value`` checked against this parameter (ints widen to floats).

        Raises
        ------
        ParamError
            Saying what was expected and what came, e.g. ``expected a positive int, got -4``.

        Examples
        --------
        >>> ParamSpec("units", ParamType.INT, 8, minimum=1).coerce(16)
        16
        """
        reason, value = self._check_type(value)
        if reason is None and self.check is not None:
            reason = self.check(value)
        if reason is not None:
            raise ParamError(reason, port=self.name)
        return value

    def expected(self) -> str:
        """Describe the accepted values in words (used in error messages)."""
        if self.type is ParamType.CHOICE:
            return "one of " + ", ".join(repr(c) for c in self.choices or ())
        if self.type is ParamType.BOOL:
            return "true or false"
        if self.type is ParamType.STR:
            return "a string"
        noun = "an int" if self.type is ParamType.INT else "a number"
        lo, hi = self.minimum, self.maximum
        if self.type is ParamType.INT and lo == 1:
            return "a positive int" + (f" (at most {_num(hi)})" if hi is not None else "")
        if lo is not None and hi is not None:
            return f"{noun} from {_num(lo)} to {_num(hi)}"
        if lo is not None:
            return f"{noun} >= {_num(lo)}"
        if hi is not None:
            return f"{noun} <= {_num(hi)}"
        return noun

    def _check_type(self, value: Any) -> tuple[str | None, Any]:
        bad = f"expected {self.expected()}, got {show_value(value)}"
        if self.type is ParamType.BOOL:
            return (None if isinstance(value, bool) else bad), value
        if self.type is ParamType.CHOICE:
            hashable = value is None or isinstance(value, (str, int, float))
            return (None if hashable and value in (self.choices or ()) else bad), value
        if self.type is ParamType.STR:
            if isinstance(value, str) and not is_text(value):
                return (
                    "expected text, got a string with a lone surrogate (not valid Unicode)",
                    value,
                )
            return (None if isinstance(value, str) else bad), value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad, value
        if self.type is ParamType.INT and not isinstance(value, int):
            return bad, value
        if self.type is ParamType.FLOAT:
            try:
                value = float(value)
            except OverflowError:
                return bad, value
            if not math.isfinite(value):
                return bad, value
        if self.minimum is not None and value < self.minimum:
            return f"expected {self._bound('>=', self.minimum)}, got {show_value(value)}", value
        if self.maximum is not None and value > self.maximum:
            return f"expected {self._bound('<=', self.maximum)}, got {show_value(value)}", value
        return None, value

    def _bound(self, op: str, limit: float) -> str:
        if self.type is ParamType.INT and op == ">=" and limit == 1:
            return "a positive int"
        noun = "an int" if self.type is ParamType.INT else "a number"
        return f"{noun} {op} {_num(limit)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class CodeTemplate:
    """How a node is written out in exported code.

    ``init`` constructs the module (empty when the node has none), ``call`` is the expression of
    its forward pass, ``support`` a module-level definition the other two use (written once per
    script, before the model; empty once rendered when none is needed). Placeholders: every
    parameter, every inferred value of the spec's ``template_values`` hook (e.g.
    ``in_features``), ``{name}`` (the node id) and one per input port holding the input's
    expression (e.g. ``{x}``).
    """

    init: str = ""
    call: str = ""
    support: str = ""


CheckFn = Callable[[Any], str | None]
InferFn = Callable[[Mapping[str, Any], Shapes], dict[str, Shape]]
BuildFn = Callable[[Mapping[str, Any], Shapes], Any]
ForwardFn = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
TemplateValuesFn = Callable[[Mapping[str, Any], Shapes], dict[str, str]]


@dataclass(frozen=True)
class NodeSpec:
    """The declaration of one node type (see the module docstring).

    Hooks
    -----
    infer(params, in_shapes) -> {output port: shape}
        Shapes are tuples with None for the batch dimension; ``in_shapes`` holds the connected
        inputs only. Raises :class:`~app.graph.errors.ShapeError` with the fix in words.
    build(params, in_shapes) -> engine Layer or None
        The engine object holding the node's parameters (imports the engine lazily).
    forward(module, params, inputs) -> {output port: Tensor}
        ``inputs`` maps the connected input ports to engine Tensors.
    template_values(params, in_shapes) -> {placeholder: str}
        Inferred values for the code templates (e.g. ``in_features``).
    count(params, in_shapes) -> int
        Number of trainable scalars.
    load(params) -> engine.data.Dataset
        For ``Role.DATA`` nodes only: the dataset the node reads.

    ``example`` gives input shapes the defaults accept (tests and docs use it); without it every
    input gets ``(None, 4)``.
    """

    type_id: str
    title: str
    category: Category
    help: str
    role: Role
    infer: InferFn
    inputs: tuple[PortSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    build: BuildFn | None = None
    forward: ForwardFn | None = None
    engine_code: CodeTemplate = field(default_factory=CodeTemplate)
    torch_code: CodeTemplate = field(default_factory=CodeTemplate)
    template_values: TemplateValuesFn | None = None
    summarize: Callable[[Mapping[str, Any]], str] | None = None
    count: Callable[[Mapping[str, Any], Shapes], int] | None = None
    load: Callable[[Mapping[str, Any]], Dataset] | None = None
    example: Mapping[str, Shape] | None = None
    legacy_ids: tuple[str, ...] = ()
    applies: str = ""
    """A loss's: the type id of the activation it applies to its prediction itself (softmax for
    cross-entropy); validation warns when a node of that type feeds the prediction."""

    def summary(self, params: Mapping[str, Any]) -> str:
        """A compact line for the canvas, e.g. ``128 units`` (empty when there is nothing)."""
        return self.summarize(params) if self.summarize else ""

    def param_count(self, params: Mapping[str, Any], in_shapes: Shapes) -> int:
        """Number of trainable scalars the node holds for the given input shapes."""
        return self.count(params, in_shapes) if self.count else 0

    def example_inputs(self) -> dict[str, Shape]:
        """Input shapes the default parameters accept, one per input port."""
        if self.example is not None:
            return dict(self.example)
        return {p.name: (None, 4) for p in self.inputs}

    def default_params(self) -> dict[str, Any]:
        """Every parameter at its default, in declaration order."""
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec:
        """The parameter called ``name``; raises :class:`ParamError` when there is none."""
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.title} has no parameter {name!r}", port=name)

    def input(self, name: str) -> PortSpec | None:
        """The input port called ``name``, or None."""
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> PortSpec | None:
        """The output port called ``name``, or None."""
        return next((p for p in self.outputs if p.name == name), None)

    def active_params(self, params: Mapping[str, Any]) -> tuple[ParamSpec, ...]:
        """The parameters that matter for these values (those whose ``when`` holds)."""
        return tuple(p for p in self.params if p.is_active(params))

    def resolve_files(
        self, params: Mapping[str, Any], base_dir: str | os.PathLike[str] | None
    ) -> Mapping[str, Any]:
        """``params`` with every relative ``file`` parameter joined to ``base_dir``.

        ``params`` itself comes back when there is nothing to resolve (no ``base_dir``, no file
        parameter set, or only absolute paths).

        Examples
        --------
        >>> spec = NodeSpec("t", "T", Category.DATA, "", Role.DATA, infer=lambda p, s: {},
        ...                 params=(ParamSpec("path", ParamType.STR, "", file=True),))
        >>> spec.resolve_files({"path": "data.csv"}, "/graphs")["path"]
        '/graphs/data.csv'
        """
        names = [
            p.name
            for p in self.params
            if p.file and params.get(p.name) and not os.path.isabs(params[p.name])
        ]
        if base_dir is None or not names:
            return params
        resolved = dict(params)
        for name in names:
            resolved[name] = os.path.join(base_dir, params[name])
        return resolved

    def coerce_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``params``, every value checked; raises :class:`ParamError`."""
        unknown = sorted(set(params) - {p.name for p in self.params})
        if unknown:
            raise ParamError(f"{self.title} has no parameter {unknown[0]!r}", port=unknown[0])
        return {p.name: p.coerce(params.get(p.name, p.default)) for p in self.params}
