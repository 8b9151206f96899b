"""Blocks in ``.nodegrad`` files: writing a document's graph and blocks, reading the blocks.

A file lists each definition once under ``blocks`` (a definition after those it uses), as
``{"name", "nodes", "edges", "exposed"}``; a block node is ``{"type": "block", "block": name,
...}``. Reading checks every definition before building any, and a block that names a missing
block or contains itself (through others) gets one line naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from app.graph.blocks.definition import BlockDefinition, BlockTable, ExposedParam, dependency_order
from app.graph.document import GraphDocument
from app.graph.fileformat import read_graph, value_kind
from app.graph.mutations import TrainingSettings
from app.graph.specs import show_value
from app.graph.specs.blocks import BLOCK

MAX_DEPTH = 64
"""Blocks nest at most this deep (deeper nesting is no network anyone draws, only an attack)."""
_BLOCK_KEYS = ("name", "nodes", "edges", "exposed")
_EXPOSED_KEYS = ("name", "node", "param")


def graph_data(doc: GraphDocument) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...]}`` of ``doc`` as a file holds them."""
    nodes = []
    for n in doc.nodes.values():
        item: dict[str, Any] = {"id": n.id, "type": n.type_id}
        if n.block is not None:
            item["block"] = n.block.name
        item.update(label=n.label, position=list(n.position), params=dict(n.params))
        nodes.append(item)
    return {"nodes": nodes, "edges": [dataclasses.asdict(e) for e in doc.edges]}


def block_data(block: BlockDefinition) -> dict[str, Any]:
    """One definition as a file holds it."""
    exposed = [{"name": e.name, "node": e.node_id, "param": e.param} for e in block.exposed]
    return {"name": block.name, **graph_data(block.body), "exposed": exposed}


def blocks_data(blocks: Mapping[str, BlockDefinition]) -> list[dict[str, Any]]:
    """Every definition, each after the ones it uses."""
    return [block_data(b) for b in dependency_order(blocks)]


def read_blocks(raw: Any, problems: list[str], table: BlockTable | None = None) -> BlockTable:
    """The definitions of a file's ``blocks`` list, added to ``table`` (a new one by default).

    Problems go to ``problems`` with their location (``blocks[1].nodes[0].block: ...``); a
    definition with problems, and every one that uses it, is left out.
    """
    table = BlockTable() if table is None else table
    if not isinstance(raw, list):
        problems.append(f"blocks: expected a list, got {value_kind(raw)}")
        return table
    entries = _entries(raw, problems, table)
    depth: dict[str, int] = {}
    for name in _order(entries, problems, table):
        index, item = entries[name]
        where = f"blocks[{index}]."
        used = [depth.get(u, MAX_DEPTH + 1) for u in _uses(item) if u in entries]
        depth[name] = 1 + max(used, default=0)
        if depth[name] > MAX_DEPTH:
            if all(d <= MAX_DEPTH for d in used):
                problems.append(f"blocks[{index}]: blocks nested more than {MAX_DEPTH} deep")
            continue
        before = len(problems)
        nodes, edges = read_graph(
            item.get("nodes", []), item.get("edges", []), where, table, problems, owner=name
        )
        if len(problems) > before:
            continue
        body = GraphDocument.from_parts(
            nodes.values(), edges, TrainingSettings(), table, owner=name
        )
        block = BlockDefinition(name, body)
        exposed = _exposed(where, item.get("exposed", []), problems)
        problem = block.exposed_problem(exposed) if exposed is not None else None
        if exposed is None or problem is not None:
            if problem is not None:
                problems.append(f"{where}exposed: {problem}")
            continue
        block.exposed = exposed
        table[name] = block
    return table


def _entries(
    raw: list[Any], problems: list[str], table: BlockTable
) -> dict[str, tuple[int, dict[str, Any]]]:
    entries: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, item in enumerate(raw):
        where = f"blocks[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object, got {value_kind(item)}")
            continue
        unknown = [k for k in item if k not in _BLOCK_KEYS]
        problems.extend(f"{where}.{show_value(k)}: unknown key" for k in unknown)
        name = item.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(
                f"{where}.name: expected an identifier like 'residual', got {show_value(name)}"
            )
        elif name in entries or name in table:
            problems.append(f"{where}.name: a second block called {show_value(name)}")
        elif not unknown:
            entries[name] = (i, item)
    return entries


def _uses(item: dict[str, Any]) -> list[str]:
    """The block names an entry's nodes name (raw; unreadable nodes are skipped)."""
    nodes = item.get("nodes", [])
    if not isinstance(nodes, list):
        return []
    names = (n.get("block") for n in nodes if isinstance(n, dict) and n.get("type") == BLOCK)
    return [n for n in names if isinstance(n, str)]


def _order(
    entries: dict[str, tuple[int, dict[str, Any]]], problems: list[str], table: BlockTable
) -> list[str]:
    """Entry names, each after those it uses; the blocks of a loop are reported and left out.

    Iterative (a file may chain thousands of blocks); each entry is finished once.
    """
    done: set[str] = set()
    order: list[str] = []
    for start in entries:
        path: list[str] = []
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            name, leaving = stack.pop()
            if leaving:
                path.pop()
                if name not in done:
                    done.add(name)
                    order.append(name)
                continue
            if name in done:
                continue
            if name in path:
                chain = " → ".join([*path[path.index(name) :], name])
                problems.append(f"blocks[{entries[name][0]}]: blocks contain each other: {chain}")
                done.update(path[path.index(name) :])
                continue
            path.append(name)
            stack.append((name, True))
            stack.extend((u, False) for u in _uses(entries[name][1]) if u in entries)
    return order


def _exposed(where: str, raw: Any, problems: list[str]) -> tuple[ExposedParam, ...] | None:
    if not isinstance(raw, list):
        problems.append(f"{where}exposed: expected a list, got {value_kind(raw)}")
        return None
    found = []
    for i, item in enumerate(raw):
        here = f"{where}exposed[{i}]"
        if not isinstance(item, dict) or set(item) != set(_EXPOSED_KEYS):
            problems.append(f"{here}: expected an object with name, node and param")
            return None
        if not all(isinstance(item[k], str) for k in _EXPOSED_KEYS):
            problems.append(f"{here}: name, node and param are strings")
            return None
        found.append(ExposedParam(item["name"], item["node"], item["param"]))
    return tuple(found)
