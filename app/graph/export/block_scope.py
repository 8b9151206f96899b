"""One graph written with its blocks as classes: a block definition's inside (the body of its
class) or the document's own graph (the body of ``Model``).

Each node is written from the values the flat plan filled its templates with at every use of
the graph (:attr:`ModelPlan.nodes`). A value that is the same at every use is written as it is;
an exposed parameter, or a value that differs between uses (an input's channel count), becomes
a constructor argument. Every filled template is checked against the flat plan's at every use
(:meth:`ScopeWriter.fill`), so a class computes exactly what the flat graph computes.
"""

from __future__ import annotations

import heapq
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.graph.blocks.flatten import repetition_step
from app.graph.errors import GraphError
from app.graph.export.block_code import (
    MARK,
    NO_DEFAULT,
    Arg,
    ClassCode,
    Marker,
    Member,
    UnfaithfulError,
    call_text,
    from_code,
    is_literal,
    join,
)
from app.graph.export.block_probe import Follows
from app.graph.export.common import RESERVED, Flavor, NodeCode, Statement, identifier, render
from app.graph.specs.base import Role
from app.graph.specs.blocks import BLOCK_INPUT, BLOCK_OUTPUT

if TYPE_CHECKING:
    from app.graph.blocks.definition import ExposedParam
    from app.graph.document import GraphDocument
    from app.graph.mutations import Node

BLOCK_RESERVED = RESERVED - {"x", "y"}  # a block's forward pass reads no targets
ROLES_IN_BLOCKS = {Role.LAYER, Role.OP}


def placeholders(template: str) -> list[str]:
    """The names a code template fills, in order, each once (``{a.b}`` -> ``a``)."""
    found: dict[str, None] = {}
    for _, field_name, _, _ in string.Formatter().parse(template):
        if field_name:
            found.setdefault(field_name.split(".")[0].split("[")[0])
    return list(found)


class ScopeWriter:
    """Writes the nodes of ``graph`` used at the flat prefixes ``uses`` (``[""]``: the
    document's own graph) for ``flavor``; ``classes`` holds the classes of the blocks inside."""

    def __init__(
        self,
        graph: GraphDocument,
        uses: list[str],
        exposed: tuple[ExposedParam, ...],
        flavor: Flavor,
        nodes: Mapping[str, NodeCode],
        repeats: Mapping[str, int],
        classes: Mapping[str, ClassCode],
        follows: Follows | None = None,
    ) -> None:
        self.graph, self.uses, self.flavor = graph, uses, flavor
        self.follows = follows or {}
        self.nodes, self.repeats, self.classes = nodes, repeats, classes
        self.top = uses == [""]
        self.reserved = RESERVED if self.top else BLOCK_RESERVED
        self.taken: set[str] = {"self"}
        self.args: list[Arg] = []
        self.exposed = {(e.node_id, e.param): e for e in exposed}
        self.exposed_args = {e.name: self._new_arg(e.name, exposed=e.name) for e in exposed}
        self.index = {flat: i for i, flat in enumerate(nodes)}  # the flat plan's build order
        self.vars: dict[tuple[str, str], str] = {}
        self.y_dependent: set[str] = {"y"} if self.top else set()
        self.attributes: list[tuple[str, str]] = []
        self.members: list[Member] = []
        self.statements: list[Statement] = []
        self.params = [self._input(n) for n in graph.nodes.values() if n.type_id == BLOCK_INPUT]
        self.units = self._units()
        self.names = {n.id: identifier(n.id, self.taken, self.reserved) for n in self.units}

    # -- the order --------------------------------------------------------------------------
    def _units(self) -> list[Node]:
        """The nodes written, in an order that follows the wires, earliest built first."""
        units = []
        for node in self.graph.nodes.values():
            if node.type_id in (BLOCK_INPUT, BLOCK_OUTPUT):
                continue
            role = node.spec.role
            if self.top and role in (Role.DATA, Role.INPUT, Role.OUTPUT):
                if role is not Role.OUTPUT:  # the batch: a dataset's x and y, or the fed x
                    self.vars.update({(node.id, "x"): "x", (node.id, "y"): "y"})
                continue
            if not self.top and node.block is None and role not in ROLES_IN_BLOCKS:
                raise UnfaithfulError(f"a {node.spec.title} node inside a block")
            units.append(node)
        ids = {n.id for n in units}
        waiting = {n.id: 0 for n in units}
        after: dict[str, list[str]] = {n.id: [] for n in units}
        for e in self.graph.edges:
            if e.src in ids and e.dst in ids:
                waiting[e.dst] += 1
                after[e.src].append(e.dst)
        rank = {n.id: self._rank(n) for n in units}
        ready = [(rank[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, node_id = heapq.heappop(ready)
            order.append(self.graph.nodes[node_id])
            for nxt in after[node_id]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, (rank[nxt], nxt))
        if len(order) != len(units):
            raise UnfaithfulError("the blocks are wired in a loop")
        return order

    def _rank(self, node: Node) -> int:
        """Where the flat plan builds the node (its first inner node, for a block) at the
        first use."""
        first = join(self.uses[0], node.id)
        if node.block is None:
            return self.index.get(first, len(self.index))
        count = self.repeats.get(first, 1)
        steps = tuple(
            join(self.uses[0], repetition_step(node.id, k)) + "__" for k in range(1, count + 1)
        )
        found = [i for flat, i in self.index.items() if flat.startswith(steps)]
        return min(found, default=len(self.index))

    # -- arguments --------------------------------------------------------------------------
    def _new_arg(self, stem: str, exposed: str = "", origin: tuple[str, str] | None = None) -> Arg:
        arg = Arg(identifier(stem, self.taken, self.reserved), exposed=exposed, origin=origin)
        self.args.append(arg)
        return arg

    def _mark(self, arg: Arg) -> Marker:
        return Marker(self.args.index(arg))

    def _bind(self, arg: Arg, values: dict[str, Any], default: Any = NO_DEFAULT) -> Marker:
        """``arg`` holding ``values`` (its use -> value); an exposed argument placed twice must
        hold the same values both times."""
        if not all(is_literal(v) for v in values.values()):
            raise UnfaithfulError(f"argument {arg.name}: a value that is not a literal")
        if arg.values and arg.values != values:
            raise UnfaithfulError(f"argument {arg.name}: two places want different values")
        arg.values = values
        if arg.default is NO_DEFAULT and default is not NO_DEFAULT and is_literal(default):
            arg.default = default
        return self._mark(arg)

    def used_args(self) -> list[Arg]:
        """The arguments placed somewhere, those without a default first."""
        used = [a for a in self.args if a.values]
        return [a for a in used if a.default is NO_DEFAULT] + [
            a for a in used if a.default is not NO_DEFAULT
        ]

    def _resolve(self, text: str, stored: bool) -> str:
        """``text`` with each mark replaced by its argument (``self.<arg>`` when ``stored``)."""

        def name(match: Any) -> str:
            arg = self.args[int(match[1])]
            arg.stored = arg.stored or stored
            return f"self.{arg.name}" if stored else arg.name

        return MARK.sub(name, text)

    # -- nodes ------------------------------------------------------------------------------
    def write(self) -> None:
        """Write every node, in order."""
        for node in self.units:
            if node.block is None:
                self._leaf(node)
            else:
                self._block(node)

    def _input(self, node: Node) -> str:
        name = identifier(node.id, self.taken, self.reserved)
        self.vars[(node.id, "y")] = name
        return name

    def _source(self, node_id: str, port: str) -> str | None:
        edge = self.graph.input_edge(node_id, port)
        return None if edge is None else self.vars[(edge.src, edge.src_port)]

    def _leaf(self, node: Node) -> None:
        codes = [self.nodes.get(join(u, node.id)) for u in self.uses]
        if any(c is None for c in codes):
            raise UnfaithfulError(f"node {node.id} is not in the flat plan")
        found = [c for c in codes if c is not None]
        spec = found[0].spec
        template = spec.engine_code if self.flavor == "engine" else spec.torch_code
        name = self.names[node.id]
        fixed = {"name": name}
        for port in spec.inputs:
            var = self._source(node.id, port.name)
            if var is not None:
                fixed[port.name] = var
            elif port.optional:
                fixed[port.name] = "None"
        keys = placeholders(template.init + template.call)
        symbolic = {
            k: self._value(node, k, found) for k in keys if k not in fixed and k in found[0].values
        }
        init = self._fill(template.init, symbolic, fixed, found, node.id)
        call = self._fill(template.call, symbolic, fixed, found, node.id)
        if init:
            self.attributes.append((name, self._resolve(init, stored=False)))
            self.members.append(Member(name, node.id))
        output = spec.outputs[0].name if len(spec.outputs) == 1 else ""
        if not output:
            raise UnfaithfulError(f"node {node.id} has {len(spec.outputs)} outputs")
        self.vars[(node.id, output)] = name
        sources = [v for k, v in fixed.items() if k != "name"]
        self._statement(name, self._resolve(call, stored=True), node.id, sources)

    def _value(self, node: Node, key: str, codes: list[NodeCode]) -> Any:
        """What fills placeholder ``key`` of ``node`` in the class: the value itself, or the
        mark of the argument that holds it."""
        values = {u: c.values[key] for u, c in zip(self.uses, codes, strict=True)}
        derived = key in codes[0].derived
        exposed = None if derived else self.exposed.get((node.id, key))
        if exposed is not None:
            arg = self.exposed_args[exposed.name]
            return self._bind(arg, values, self._default(node, key))
        followed = self.follows.get((node.id, key)) if derived else None
        if followed is not None:
            values = {u: from_code(v) for u, v in values.items()}
            return self._bind(self.exposed_args[followed], values)
        first = next(iter(values.values()))
        if all(v == first and type(v) is type(first) for v in values.values()):
            return first
        if derived:
            values = {u: from_code(v) for u, v in values.items()}
        return self._bind(self._new_arg(f"{node.id}_{key}", origin=(node.id, key)), values)

    def _default(self, node: Node, key: str) -> Any:
        """The definition's own value of ``node.key`` (the exposed argument's default)."""
        try:
            return node.spec.coerce_params(dict(node.params)).get(key, NO_DEFAULT)
        except GraphError:
            return NO_DEFAULT

    def _fill(
        self,
        template: str,
        symbolic: dict[str, Any],
        fixed: dict[str, str],
        codes: list[NodeCode],
        node_id: str,
    ) -> str:
        """``template`` filled for the class; raises :class:`UnfaithfulError` unless, with each
        argument's value put back, it is the flat plan's text at every use."""
        try:
            text = render(template, {**symbolic, **fixed}, node_id)
        except (GraphError, AttributeError, IndexError, TypeError, ValueError):
            raise UnfaithfulError(
                f"node {node_id}: its template does more than paste a value"
            ) from None
        for use, code in zip(self.uses, codes, strict=True):
            flat = render(template, {**code.values, **fixed}, node_id)
            if "\x00" in flat:
                raise UnfaithfulError(f"node {node_id}: a value holds the argument mark")
            back = self._put_back(text, use)
            if back != flat:
                raise UnfaithfulError(
                    f"node {node_id}: the class would write {back!r}, not {flat!r}"
                )
        return text

    def _put_back(self, text: str, use: str) -> str:
        """``text`` with each mark replaced by its argument's value at ``use``."""
        return MARK.sub(lambda m: repr(self.args[int(m[1])].values[use]), text)

    def _block(self, node: Node) -> None:
        assert node.block is not None
        cls = self.classes[node.block.name]
        counts = {self.repeats.get(join(u, node.id), 1) for u in self.uses}
        if len(counts) != 1:
            raise UnfaithfulError(f"block node {node.id} repeats a different number of times")
        sources = [self._source(node.id, port) or "None" for port in cls.inputs]
        for k in range(1, counts.pop() + 1):
            step = repetition_step(node.id, k)
            name = self.names[node.id] if k == 1 else identifier(step, self.taken, self.reserved)
            items = [
                f"{a.name}={self._resolve(self._nested(node, step, a), False)}" for a in cls.args
            ]
            self.attributes.append((name, call_text(name, cls.name, items, 2)))
            self.members.append(Member(name, step, cls))
            targets = [name]
            if len(cls.outputs) != 1:
                targets = [
                    identifier(f"{name}_{p}", self.taken, self.reserved) for p in cls.outputs
                ]
            for port, target in zip(cls.outputs, targets, strict=False):
                self.vars[(node.id, port)] = target
            call = f"self.{name}({', '.join(sources)})"
            self._statement(", ".join(targets) if cls.outputs else "_", call, node.id, sources)
            sources = targets[:1]

    def _nested(self, node: Node, step: str, arg: Arg) -> str:
        """What the class passes for argument ``arg`` of the block node's repetition ``step``."""
        values = {u: arg.values[join(u, step)] for u in self.uses}
        exposed = self.exposed.get((node.id, arg.exposed)) if arg.exposed else None
        if exposed is not None:
            default = node.params.get(arg.exposed, NO_DEFAULT)
            return self._bind(self.exposed_args[exposed.name], values, default)
        origin = None if arg.origin is None else (f"{step}__{arg.origin[0]}", arg.origin[1])
        followed = None if origin is None else self.follows.get(origin)
        if followed is not None:
            return self._bind(self.exposed_args[followed], values)
        first = next(iter(values.values()))
        if all(v == first and type(v) is type(first) for v in values.values()):
            return repr(first)
        return self._bind(self._new_arg(f"{step}_{arg.name}", origin=origin), values)

    def _statement(self, target: str, expression: str, node_id: str, sources: list[str]) -> None:
        needs_y = any(s in self.y_dependent for s in sources)
        if needs_y:
            self.y_dependent.update(t.strip() for t in target.split(","))
        self.statements.append(Statement(target, expression, node_id, needs_y))

    # -- results ----------------------------------------------------------------------------
    def returns(self) -> list[str]:
        """What the forward pass returns: the source of each block output (None: unwired)."""
        outs = [n for n in self.graph.nodes.values() if n.type_id == BLOCK_OUTPUT]
        return [self._source(n.id, "x") or "None" for n in outs]

    def class_code(self, name: str, block: str) -> ClassCode:
        """The written graph as the class ``name`` of the definition ``block``."""
        args = self.used_args()
        stored = [f"self.{a.name} = {a.name}" for a in args if a.stored]
        init = stored + [f"self.{attr} = {expr}" for attr, expr in self.attributes]
        forward = [f"{s.target} = {s.expression}" for s in self.statements]
        returns = self.returns()
        forward.append(f"return {', '.join(returns)}" if returns else "return None")
        ports = [n.id for n in self.graph.nodes.values()]
        return ClassCode(
            name=name,
            block=block,
            inputs=[p for p in ports if self.graph.nodes[p].type_id == BLOCK_INPUT],
            outputs=[p for p in ports if self.graph.nodes[p].type_id == BLOCK_OUTPUT],
            args=args,
            members=self.members,
            init=init,
            forward=forward,
            params=self.params,
        )
