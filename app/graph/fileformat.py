"""The ``.nodegrad`` file format: its name and version, and the parser of its data.

:func:`parse_text` turns text into JSON data and :func:`read_parts` checks that data and returns
the document's parts; both raise :class:`~app.graph.errors.FileFormatError` listing every problem
with its location (``nodes[3].id: expected a string, got a list``). Whatever the file holds, the
parser raises nothing else, runs in time linear in the file's size, and never executes anything.
:mod:`app.graph.io` assembles the document from the parts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.graph.errors import FileFormatError, ParamError
from app.graph.mutations import TRAINING_PARAMS, Edge, Node, TrainingSettings, wire_problem
from app.graph.specs import NodeSpec, get_spec, is_known_type, is_text, show_value
from app.graph.specs.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT

if TYPE_CHECKING:
    from app.graph.blocks.definition import BlockTable

FORMAT = "nodegrad"
"""The value of a file's ``format`` key."""
VERSION = 2
"""The version this nodegrad writes; older versions are upgraded by :data:`MIGRATIONS`.

Version 2 added blocks (a ``blocks`` list of definitions, block nodes naming theirs)."""


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no blocks: its data is version 2 data as it is."""
    return {**data, "version": 2}


# Upgrades of older files: MIGRATIONS[v] turns version-v data into version v + 1 data.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}

MAX_TEXT_PROBLEMS = 10
"""At most this many strings that are not valid Unicode are listed."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TOP_KEYS = ("format", "version", "nodes", "edges", "training", "blocks")
_NODE_KEYS = ("id", "type", "block", "label", "position", "params")
_EDGE_KEYS = ("src", "src_port", "dst", "dst_port")


@dataclass(frozen=True)
class DocumentParts:
    """A checked file's nodes (in file order), wires, training settings and blocks."""

    nodes: list[Node]
    edges: list[Edge]
    training: TrainingSettings
    blocks: BlockTable


def parse_text(text: str, path: str | None = None) -> Any:
    """JSON data from ``.nodegrad`` text; raises :class:`FileFormatError` when it is not JSON.

    Refused: invalid JSON, nesting deeper than Python can parse, integers longer than Python
    converts (4300 digits), and the non-standard ``NaN``/``Infinity`` literals.
    """
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        problem = f"line {err.lineno} column {err.colno}: not valid JSON ({err.msg})"
    except RecursionError:
        problem = "(top level): the JSON is nested too deeply to be a nodegrad file"
    except ValueError as err:  # integer strings over sys.get_int_max_str_digits, NaN literals
        problem = f"(top level): not a nodegrad number: {str(err)[:80]}"
    raise FileFormatError([problem], path)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def may_hold_surrogates(text: str) -> bool:
    """Whether JSON ``text`` may hold a lone surrogate once parsed (a ``\\uD800``-``\\uDFFF``
    escape, or one in the text itself); False lets :func:`read_parts` skip that check."""
    return _SURROGATE_ESCAPE.search(text) is not None or not is_text(text)


def read_parts(data: Any, path: str | None = None, check_text: bool = True) -> DocumentParts:
    """Check parsed JSON ``data``; every problem is reported at once, with its location.

    ``check_text=False`` skips looking for lone surrogates, for data parsed from text that
    :func:`may_hold_surrogates` cleared.
    """
    if not isinstance(data, dict):
        raise FileFormatError([f"(top level): expected an object, got {value_kind(data)}"], path)
    problems = _text_problems(data) if check_text else []
    if problems:
        raise FileFormatError(problems, path)
    data = _migrate(data, problems)
    if problems:
        raise FileFormatError(problems, path)
    from app.graph.blocks.files import read_blocks

    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{_key(key)}: unknown key (expected one of {', '.join(_TOP_KEYS)})")
    blocks = read_blocks(data.get("blocks", []), problems)
    nodes, edges = read_graph(data.get("nodes", []), data.get("edges", []), "", blocks, problems)
    training = _read_training(data.get("training", {}), problems)
    if problems:
        raise FileFormatError(problems, path)
    return DocumentParts(list(nodes.values()), edges, training, blocks)


def read_graph(
    raw_nodes: Any,
    raw_edges: Any,
    where: str,
    blocks: BlockTable,
    problems: list[str],
    owner: str | None = None,
) -> tuple[dict[str, Node], list[Edge]]:
    """The nodes and wires of a graph (``where`` ``""``) or a block's inside (``where``
    ``blocks[2].``, ``owner`` its name); problems are added to ``problems``."""
    nodes = _read_nodes(raw_nodes, problems, blocks, where, owner)
    # Wires of nodes already reported (or of an unreadable node list) are not checked again.
    reported: set[str] | None = None
    if isinstance(raw_nodes, list):
        ids = (n.get("id") for n in raw_nodes if isinstance(n, dict))
        reported = {i for i in ids if isinstance(i, str)} - nodes.keys()
    edges = _read_edges(raw_edges, nodes, reported, problems, where)
    return nodes, edges


def _text_problems(data: Any) -> list[str]:
    """Locations of strings (keys included) that cannot be written back as UTF-8.

    Iterative, so any nesting that :func:`json.loads` accepted is walked without recursion.
    """
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack and len(found) < MAX_TEXT_PROBLEMS:
        where, value = stack.pop()
        if isinstance(value, str):
            if not is_text(value):
                found.append(f"{where or '(top level)'}: not valid Unicode text (a lone surrogate)")
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if not is_text(key):
                    found.append(f"{where or '(top level)'}: a key is not valid Unicode text")
                    continue
                stack.append((f"{where}.{_key(key)}" if where else _key(key), item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return found


def _migrate(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {show_value(data.get('format'))}")
        return data
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"version: expected a positive int, got {show_value(version)}")
    elif version > VERSION:
        problems.append(
            f"version: the file is version {show_value(version)}, this nodegrad reads up to "
            f"version {VERSION}; update nodegrad"
        )
    else:
        while version < VERSION:
            data = MIGRATIONS[version](data)
            version += 1
    return data


def _key(key: str) -> str:
    """A key as a location part: as written when it is a short name, else quoted and cut."""
    return key if key.isidentifier() and len(key) <= 40 else show_value(key)


def value_kind(value: Any) -> str:
    """What a JSON value is, for messages: ``an object``, ``the number 3``, ``null``."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {show_value(value)}"
    return names.get(type(value), type(value).__name__)


def _read_nodes(
    raw: Any, problems: list[str], blocks: BlockTable, where: str, owner: str | None
) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    if not isinstance(raw, list):
        problems.append(f"{where}nodes: expected a list, got {value_kind(raw)}")
        return nodes
    seen: set[str] = set()
    for i, item in enumerate(raw):
        node = _read_node(f"{where}nodes[{i}]", item, problems, blocks, owner)
        node_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(node_id, str):
            # Checked on the raw id, so a copy that has other problems is reported as one too.
            if node_id in seen:
                problems.append(f"{where}nodes[{i}].id: duplicate id {show_value(node_id)}")
                continue
            seen.add(node_id)
        if node is not None:
            nodes[node.id] = node
    return nodes


def _read_node(
    where: str, item: Any, problems: list[str], blocks: BlockTable, owner: str | None
) -> Node | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {value_kind(item)}")
        return None
    before = len(problems)
    problems.extend(f"{where}.{_key(k)}: unknown key" for k in item if k not in _NODE_KEYS)
    node_id, type_id = item.get("id"), item.get("type")
    if not isinstance(node_id, str):
        problems.append(f"{where}.id: expected a string, got {value_kind(node_id)}")
    elif not node_id.isidentifier():
        problems.append(
            f"{where}.id: expected an identifier like 'linear_1', got {show_value(node_id)}"
        )
    if not isinstance(type_id, str):
        problems.append(f"{where}.type: expected a string, got {value_kind(type_id)}")
    elif not is_known_type(type_id):
        problems.append(f"{where}.type: unknown node type {show_value(type_id)}")
    elif type_id in (BLOCK_INPUT, BLOCK_OUTPUT) and owner is None:
        problems.append(f"{where}.type: block inputs and outputs go inside a block")
    spec, block = _node_spec(where, item, type_id, blocks, problems)
    label = item.get("label", "")
    if not isinstance(label, str):
        problems.append(f"{where}.label: expected a string, got {value_kind(label)}")
    position = _position(item.get("position", [0.0, 0.0]))
    if position is None:
        problems.append(
            f"{where}.position: expected [x, y] finite numbers, got "
            f"{_show_position(item.get('position'))}"
        )
    params = _read_params(where, spec, item.get("params", {}), problems)
    if len(problems) > before or position is None or spec is None:
        return None
    return Node(str(node_id), spec.type_id, params, position, label, block)


def _node_spec(
    where: str, item: dict[str, Any], type_id: Any, blocks: BlockTable, problems: list[str]
) -> tuple[NodeSpec | None, Any]:
    """The spec a node's parameters are read with and its block (block nodes only)."""
    name = item.get("block")
    if type_id != BLOCK:
        if "block" in item:
            problems.append(f"{where}.block: only block nodes name a block")
        known = isinstance(type_id, str) and is_known_type(type_id)
        return (get_spec(type_id) if known else None), None
    if not isinstance(name, str):
        problems.append(f"{where}.block: expected the name of a block, got {value_kind(name)}")
        return None, None
    if name not in blocks:
        problems.append(f"{where}.block: there is no block {show_value(name)} in the file")
        return None, None
    return blocks[name].spec, blocks[name]


def _position(value: Any) -> tuple[float, float] | None:
    """``(x, y)`` from a list of two finite numbers, else None (huge integers included)."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        try:
            f = float(v)
        except OverflowError:
            return None
        if not math.isfinite(f):
            return None
        out.append(f)
    return out[0], out[1]


def _show_position(value: Any) -> str:
    if isinstance(value, list) and len(value) <= 4:
        return "[" + ", ".join(show_value(v, 24) for v in value) + "]"
    return show_value(value)


def _read_params(
    where: str, spec: NodeSpec | None, raw: Any, problems: list[str]
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where}.params: expected an object, got {value_kind(raw)}")
        return {}
    if spec is None:
        return {}
    names = {p.name for p in spec.params}
    for key in raw:
        if key not in names:
            problems.append(
                f"{where}.params.{_key(key)}: {spec.title} has no parameter {show_value(key)}"
            )
    values = {}
    for p in spec.params:
        try:
            values[p.name] = p.coerce(raw.get(p.name, p.default))
        except ParamError as err:
            problems.append(f"{where}.params.{p.name}: {err.message}")
    return values


def _read_edges(
    raw: Any,
    nodes: Mapping[str, Node],
    reported: set[str] | None,
    problems: list[str],
    prefix: str = "",
) -> list[Edge]:
    """The wires; ``reported`` holds ids of nodes already refused (their wires are skipped)."""
    if not isinstance(raw, list):
        problems.append(f"{prefix}edges: expected a list, got {value_kind(raw)}")
        return []
    edges: dict[tuple[str, str], tuple[int, Edge]] = {}
    for j, item in enumerate(raw):
        where = f"{prefix}edges[{j}]"
        edge = _read_edge(where, item, problems)
        if edge is None or reported is None:
            continue
        if edge.src in reported or edge.dst in reported:
            continue
        problem = wire_problem(nodes, edge)
        if problem is not None:
            end, error = problem
            problems.append(f"{where}.{end}: {error.message}" if end else f"{where}: {error}")
            continue
        key = (edge.dst, edge.dst_port)
        if key in edges:
            problems.append(
                f"{where}: input {edge.dst}.{edge.dst_port} already has a wire "
                f"({prefix}edges[{edges[key][0]}]); an input takes one wire"
            )
            continue
        edges[key] = (j, edge)
    return [edge for _, edge in edges.values()]


def _read_edge(where: str, item: Any, problems: list[str]) -> Edge | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {value_kind(item)}")
        return None
    before = len(problems)
    problems.extend(f"{where}.{_key(k)}: unknown key" for k in item if k not in _EDGE_KEYS)
    for key in _EDGE_KEYS:
        if not isinstance(item.get(key), str):
            problems.append(f"{where}.{key}: expected a string, got {value_kind(item.get(key))}")
    return None if len(problems) > before else Edge(*(item[k] for k in _EDGE_KEYS))


def _read_training(raw: Any, problems: list[str]) -> TrainingSettings:
    if not isinstance(raw, dict):
        problems.append(f"training: expected an object, got {value_kind(raw)}")
        return TrainingSettings()
    names = {p.name for p in TRAINING_PARAMS}
    problems.extend(f"training.{_key(k)}: unknown setting" for k in raw if k not in names)
    values = {}
    for p in TRAINING_PARAMS:
        if p.name in raw:
            try:
                values[p.name] = p.coerce(raw[p.name])
            except ParamError as err:
                problems.append(f"training.{p.name}: {err.message}")
    return TrainingSettings(**values)
