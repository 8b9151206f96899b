"""Copy, cut, paste and duplicate through the system clipboard as JSON.

The payload is a fragment of a ``.nodegrad`` file (the copied nodes and the wires between
them, and the definitions of the blocks they use), so nodes paste within a document and across
documents or running editors. A pasted block node uses the document's definition of its
block's name; a document without one (or with a different one) gets a copy of the clipboard's
definition, in the same undo step. It goes on the
clipboard as plain text, marked by its ``"format"`` key: a QMimeData left on the clipboard makes
PySide 6.11 crash when the application is destroyed at exit.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from PySide6.QtGui import QGuiApplication

from app.graph.blocks.definition import (
    BlockDefinition,
    dependency_order,
    unique_block_name,
    walk_blocks,
)
from app.graph.blocks.files import block_data, blocks_data
from app.graph.blocks.grouping import graph_of, in_scope
from app.graph.blocks.mutations import AddBlock
from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.fileformat import FORMAT as FILE_FORMAT
from app.graph.fileformat import VERSION as FILE_VERSION
from app.graph.mutations import AddNode, Batch, Connect, Mutation, Node

FORMAT = f"{FILE_FORMAT}-fragment"


def copy_fragment(document: GraphDocument, node_ids: list[str]) -> dict[str, Any]:
    """The nodes ``node_ids`` of ``document`` (a graph or a block's inside), the wires among
    them and the blocks they use, as a JSON-ready dict."""
    data = document.to_dict()
    keep = set(node_ids)
    nodes = [n for n in data["nodes"] if n["id"] in keep]
    edges = [e for e in data["edges"] if e["src"] in keep and e["dst"] in keep]
    fragment = {"format": FORMAT, "version": FILE_VERSION, "nodes": nodes, "edges": edges}
    used = [document.nodes[n].block for n in node_ids if n in document.nodes]
    blocks = {b.name: b for b in walk_blocks([b for b in used if b is not None])}
    if blocks:
        fragment["blocks"] = blocks_data(blocks)
    return fragment


def fragment_to_json(fragment: dict[str, Any]) -> str:
    """The fragment as clipboard text."""
    return json.dumps(fragment, indent=1, sort_keys=False)


def put_on_clipboard(fragment: dict[str, Any]) -> None:
    """Place the fragment on the system clipboard as JSON text."""
    QGuiApplication.clipboard().setText(fragment_to_json(fragment))


def read_clipboard() -> dict[str, Any] | None:
    """The fragment on the clipboard, or None when it holds something else."""
    try:
        fragment = json.loads(QGuiApplication.clipboard().text())
    except ValueError:
        return None
    ok = isinstance(fragment, dict) and fragment.get("format") == FORMAT
    return fragment if ok else None


def _unique_id(document: GraphDocument, type_id: str, taken: set[str]) -> str:
    candidate = document.new_node_id(type_id)
    match = re.match(r"^(.*?)(\d+)$", candidate)
    stem, number = (match.group(1), int(match.group(2))) if match else (candidate + "_", 1)
    while candidate in taken or candidate in document.nodes:
        number += 1
        candidate = f"{stem}{number}"
    return candidate


def paste_mutation(
    document: GraphDocument,
    fragment: dict[str, Any],
    at: tuple[float, float],
    scope: str | None = None,
) -> tuple[Mutation, list[str]]:
    """The mutation of ``document`` (the top level) that adds a fragment with fresh ids to the
    graph ``scope`` names (None: the document's own), its top-left node at ``at``.

    Returns the mutation and the new node ids. Raises ``GraphError`` when the fragment is not
    a valid piece of a document (unknown node types, bad parameters, wires to nowhere).
    """
    graph = graph_of(document, scope)
    whole = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "nodes": fragment.get("nodes", []),
        "edges": fragment.get("edges", []),
        "training": document.to_dict()["training"],
    }
    if fragment.get("blocks"):
        whole["blocks"] = fragment["blocks"]
    try:
        part = GraphDocument.from_dict(whole)
    except (KeyError, TypeError, ValueError) as error:
        raise GraphError(f"the clipboard does not hold nodegrad nodes ({error})") from None
    if not part.nodes:
        raise GraphError("the clipboard holds no nodes")
    definitions, added = _definitions(document, part)
    left = min(n.position[0] for n in part.nodes.values())
    top = min(n.position[1] for n in part.nodes.values())
    taken: set[str] = set()
    renamed: dict[str, str] = {}
    mutations: list[Mutation] = []
    for node in part.nodes.values():
        stem = node.type_id if node.block is None else definitions[node.block.name].name
        new_id = _unique_id(graph, stem, taken)
        taken.add(new_id)
        renamed[node.id] = new_id
        x, y = node.position
        block = definitions[node.block.name] if node.block is not None else None
        moved = dataclasses.replace(
            node, id=new_id, position=(x - left + at[0], y - top + at[1]), block=block
        )
        mutations.append(AddNode(moved))
    for e in part.edges:
        mutations.append(Connect(renamed[e.src], e.src_port, renamed[e.dst], e.dst_port))
    n = len(renamed)
    text = "Paste node" if n == 1 else f"Paste {n} nodes"
    if added:
        text += f" (and block{'s' if len(added) > 1 else ''} {', '.join(added)})"
    paste = in_scope(scope, Batch(tuple(mutations), text))
    steps = (*(AddBlock(definitions[name]) for name in added), paste)
    return Batch(steps, text), list(renamed.values())


def _definitions(
    document: GraphDocument, part: GraphDocument
) -> tuple[dict[str, BlockDefinition], list[str]]:
    """The definition each block name of ``part`` is pasted as (``document``'s own when it
    has the same one, else a copy added under a free name), and the copies' names, each after
    the ones it uses."""
    chosen: dict[str, BlockDefinition] = {}
    added: list[str] = []
    for block in dependency_order(part.blocks):
        mine = document.blocks.get(block.name)
        if mine is not None and block_data(mine) == block_data(block):
            chosen[block.name] = mine
            continue
        name = unique_block_name({**document.blocks, **dict.fromkeys(added)}, block.name)
        nodes = [_relinked(n, chosen) for n in block.body.nodes.values()]
        body = GraphDocument.from_parts(
            nodes, block.body.edges, document.training, document.blocks, owner=name
        )
        chosen[block.name] = BlockDefinition(name, body, block.exposed)
        added.append(name)
    return chosen, added


def _relinked(node: Node, chosen: dict[str, BlockDefinition]) -> Node:
    """``node`` of a pasted block's inside, its own block node using the pasted definitions."""
    if node.block is None:
        return node
    return dataclasses.replace(node, block=chosen[node.block.name])
