"""Copy, cut, paste and duplicate through the system clipboard as JSON.

The payload is a fragment of a ``.nodegrad`` file (the copied nodes and the wires between
them), so nodes paste within a document and across documents or running editors. It goes on the
clipboard as plain text, marked by its ``"format"`` key: a QMimeData left on the clipboard makes
PySide 6.11 crash when the application is destroyed at exit.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from PySide6.QtGui import QGuiApplication

from app.graph.document import GraphDocument
from app.graph.errors import GraphError
from app.graph.fileformat import FORMAT as FILE_FORMAT
from app.graph.fileformat import VERSION as FILE_VERSION
from app.graph.mutations import AddNode, Batch, Connect, Mutation

FORMAT = f"{FILE_FORMAT}-fragment"


def copy_fragment(document: GraphDocument, node_ids: list[str]) -> dict[str, Any]:
    """The nodes ``node_ids`` and the wires among them as a JSON-ready dict."""
    data = document.to_dict()
    keep = set(node_ids)
    nodes = [n for n in data["nodes"] if n["id"] in keep]
    edges = [e for e in data["edges"] if e["src"] in keep and e["dst"] in keep]
    return {"format": FORMAT, "version": FILE_VERSION, "nodes": nodes, "edges": edges}


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
    document: GraphDocument, fragment: dict[str, Any], at: tuple[float, float]
) -> tuple[Mutation, list[str]]:
    """The mutation that adds a fragment with fresh ids, its top-left node at ``at``.

    Returns the mutation and the new node ids. Raises ``GraphError`` when the fragment is not
    a valid piece of a document (unknown node types, bad parameters, wires to nowhere).
    """
    whole = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "nodes": fragment.get("nodes", []),
        "edges": fragment.get("edges", []),
        "training": document.to_dict()["training"],
    }
    try:
        part = GraphDocument.from_dict(whole)
    except (KeyError, TypeError, ValueError) as error:
        raise GraphError(f"the clipboard does not hold nodegrad nodes ({error})") from None
    if not part.nodes:
        raise GraphError("the clipboard holds no nodes")
    left = min(n.position[0] for n in part.nodes.values())
    top = min(n.position[1] for n in part.nodes.values())
    taken: set[str] = set()
    renamed: dict[str, str] = {}
    mutations: list[Mutation] = []
    for node in part.nodes.values():
        new_id = _unique_id(document, node.type_id, taken)
        taken.add(new_id)
        renamed[node.id] = new_id
        x, y = node.position
        moved = dataclasses.replace(node, id=new_id, position=(x - left + at[0], y - top + at[1]))
        mutations.append(AddNode(moved))
    for e in part.edges:
        mutations.append(Connect(renamed[e.src], e.src_port, renamed[e.dst], e.dst_port))
    n = len(renamed)
    text = "Paste node" if n == 1 else f"Paste {n} nodes"
    return Batch(tuple(mutations), text), list(renamed.values())
