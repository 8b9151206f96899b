"""Block files: one block (and the blocks it uses) as data, saved, listed and inserted.

A block file (``NAME.nodegrad-block``) is JSON, never code::

    {"format": "nodegrad-block", "version": 1, "block": "residual",
     "description": "...", "blocks": [definitions, inner ones first]}

Each definition is written as a ``.nodegrad`` file writes it (:func:`~app.graph.blocks.files.
block_data`) and read with the same checks (:func:`~app.graph.blocks.files.read_blocks`): a
hostile file gets located one-line problems (``blocks[0].nodes[2].type: unknown node type``),
never a crash. The library is a folder of such files: the user's (the editor passes Qt's data
folder) and the built-in one, :data:`BUILTIN_FOLDER`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.graph import mutations as mu
from app.graph.blocks import mutations as bm
from app.graph.blocks.definition import (
    BlockDefinition,
    BlockTable,
    dependency_order,
    unique_block_name,
    walk_blocks,
)
from app.graph.blocks.files import block_data, read_blocks
from app.graph.blocks.grouping import graph_of, in_scope
from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError, GraphError
from app.graph.fileformat import parse_text
from app.graph.io import _atomic_write, read_text_file
from app.graph.mutations import Node
from app.graph.specs import show_value
from app.graph.specs.blocks import BLOCK

FORMAT = "nodegrad-block"
"""The value of a block file's ``format`` key."""
VERSION = 1
"""The block file version this nodegrad writes and reads."""
SUFFIX = ".nodegrad-block"
"""The file name ending of block files."""
MAX_BLOCK_BYTES = 4 * 1024 * 1024
"""Larger block files are refused unread (a 200-node block takes about 100 kB)."""
MAX_LIBRARY_FILES = 500
"""At most this many files of a folder are listed."""
MAX_DESCRIPTION = 300
"""The longest description a block file may hold (characters)."""
BUILTIN_FOLDER = Path(__file__).resolve().parents[3] / "resources" / "blocks"
"""The built-in blocks shipped with nodegrad."""

_KEYS = ("format", "version", "block", "description", "blocks")


@dataclass(frozen=True)
class BlockSource:
    """A block read from a file (or taken from a document): ``name`` in ``blocks``.

    ``blocks`` holds the block and every block it uses, all sharing that table.
    """

    name: str
    blocks: BlockTable
    description: str = ""
    path: Path | None = None

    @property
    def definition(self) -> BlockDefinition:
        """The block itself."""
        return self.blocks[self.name]


@dataclass(frozen=True)
class LibraryEntry:
    """One file of a library folder: its block, or the one-line reason it cannot be read."""

    path: Path
    source: BlockSource | None
    error: str = ""

    @property
    def name(self) -> str:
        """The block's name, or the file's name without its ending when unreadable."""
        return self.source.name if self.source is not None else self.path.name[: -len(SUFFIX)]


# -- writing -------------------------------------------------------------------------------------
def block_file_data(doc: GraphDocument, name: str, description: str = "") -> dict[str, Any]:
    """Block ``name`` of ``doc`` and every block it uses, as a block file holds them.

    Raises
    ------
    GraphError
        When ``doc`` has no block ``name``.
    """
    block = doc.blocks.get(name)
    if block is None:
        raise GraphError(f"There is no block '{name}'")
    used = {b.name: b for b in walk_blocks([block])}
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "block": name}
    if description:
        data["description"] = description
    data["blocks"] = [block_data(b) for b in dependency_order(used)]
    return data


def save_block(doc: GraphDocument, name: str, folder: Path, description: str = "") -> Path:
    """Write block ``name`` of ``doc`` to ``folder/NAME.nodegrad-block`` (created when missing,
    an older file of that name replaced, atomically); returns the file.

    Raises
    ------
    GraphError
        When ``doc`` has no block ``name``.
    OSError
        When the folder or the file cannot be written.
    """
    text = json.dumps(block_file_data(doc, name, description), indent=2, ensure_ascii=False)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{SUFFIX}"
    payload = (text + "\n").encode("utf-8")
    _atomic_write(path, lambda handle: handle.write(payload))
    return path


# -- reading -------------------------------------------------------------------------------------
def load_block(path: Path) -> BlockSource:
    """Read a block file.

    Raises
    ------
    FileFormatError
        Listing every problem with its location; nothing in the file is executed.
    """
    name = os.fspath(path)
    text = read_text_file(name, MAX_BLOCK_BYTES, "a block file")
    return read_block_data(parse_text(text, name), Path(name))


def read_block_data(data: Any, path: Path | None = None) -> BlockSource:
    """Check parsed block-file data and build its blocks (see :func:`load_block`)."""
    where = os.fspath(path) if path is not None else None
    if not isinstance(data, dict):
        raise FileFormatError([f"(top level): expected an object, got {show_value(data)}"], where)
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise FileFormatError(
            ["(top level): a text is not valid Unicode (a lone surrogate)"], where
        ) from None
    problems = [f"{show_value(k)}: unknown key" for k in data if k not in _KEYS]
    if data.get("format") != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {show_value(data.get('format'))}")
        raise FileFormatError(problems, where)
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        problems.append(
            f"version: this nodegrad reads version {VERSION}, got {show_value(version)}"
        )
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        problems.append(f"description: expected a text of at most {MAX_DESCRIPTION} characters")
    name = data.get("block")
    if not isinstance(name, str) or not name.isidentifier():
        problems.append(f"block: expected the name of a block, got {show_value(name)}")
    if problems or not isinstance(name, str) or not isinstance(description, str):
        raise FileFormatError(problems, where)
    table = read_blocks(data.get("blocks"), problems)
    if not problems and name not in table:
        problems.append(f"block: the file defines no block {show_value(name)}")
    if problems:
        raise FileFormatError(problems, where)
    return BlockSource(name, table, description.strip(), path)


def list_library(folder: Path) -> list[LibraryEntry]:
    """The block files of ``folder`` by name; a file that cannot be read is listed with its
    first problem. A missing folder holds none."""
    try:
        paths = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX))
    except OSError:
        return []
    entries = []
    for path in paths[:MAX_LIBRARY_FILES]:
        try:
            entries.append(LibraryEntry(path, load_block(path)))
        except FileFormatError as err:
            entries.append(LibraryEntry(path, None, err.problems[0] if err.problems else str(err)))
    return entries


def document_source(doc: GraphDocument, name: str) -> BlockSource:
    """Block ``name`` of ``doc`` as a source to insert (into ``doc``: it is used as it is)."""
    if name not in doc.blocks:
        raise GraphError(f"There is no block '{name}'")
    return BlockSource(name, doc.blocks)


# -- inserting -----------------------------------------------------------------------------------
def insert_block(
    doc: GraphDocument,
    source: BlockSource,
    position: tuple[float, float],
    scope: str | None = None,
) -> mu.Mutation:
    """One mutation that adds ``source``'s block to ``doc`` and a node of it at ``position``
    in the graph ``scope`` names (None: the graph itself).

    The block and every block it uses become definitions of ``doc``: a definition ``doc``
    already has unchanged is used as it is, one whose name is taken by another is added
    renamed (``residual_2``).

    Raises
    ------
    GraphError
        When ``scope`` names no block.
    """
    graph = graph_of(doc, scope)
    names: dict[str, str] = {}
    added: dict[str, BlockDefinition] = {}
    if source.blocks is doc.blocks:
        names = {source.name: source.name}
    else:
        used = {b.name: b for b in walk_blocks([source.definition])}
        for block in dependency_order(used):
            same = _same_definition(doc, block, names)
            if same is not None:
                names[block.name] = same
                continue
            new_name = unique_block_name({*doc.blocks, *added}, block.name)
            names[block.name] = new_name
            added[new_name] = _copy_into(doc, block, new_name, {**doc.blocks, **added}, names)
    name = names[source.name]
    definition = added.get(name) or doc.blocks[name]
    node = Node(
        graph.new_node_id(name),
        BLOCK,
        definition.instance_params({}),
        position,
        block=definition,
    )
    steps = [*(bm.AddBlock(b) for b in added.values()), in_scope(scope, mu.AddNode(node))]
    return mu.Batch(tuple(steps), f"Insert block '{name}'")


def _renamed_data(block: BlockDefinition, names: dict[str, str]) -> dict[str, Any]:
    """``block``'s file data without its name, the blocks it uses named as in ``names``."""
    data = block_data(block)
    del data["name"]
    for node in data["nodes"]:
        if "block" in node:
            node["block"] = names.get(node["block"], node["block"])
    return data


def _same_definition(
    doc: GraphDocument, block: BlockDefinition, names: dict[str, str]
) -> str | None:
    """The name of a definition of ``doc`` equal to ``block`` (its own name preferred)."""
    wanted = _renamed_data(block, names)
    candidates = [block.name, *(n for n in doc.blocks if n != block.name)]
    for candidate in candidates:
        existing = doc.blocks.get(candidate)
        if existing is not None and _renamed_data(existing, {}) == wanted:
            return candidate
    return None


def _copy_into(
    doc: GraphDocument,
    block: BlockDefinition,
    name: str,
    table: dict[str, BlockDefinition],
    names: dict[str, str],
) -> BlockDefinition:
    """A copy of ``block`` called ``name`` for ``doc``: its block nodes use ``table``'s
    definitions (named through ``names``)."""
    nodes = []
    for node in block.body.nodes.values():
        if node.block is not None:
            node = dataclasses.replace(node, block=table[names[node.block.name]])
        nodes.append(node)
    body = GraphDocument.from_parts(nodes, block.body.edges, doc.training, doc.blocks, owner=name)
    return BlockDefinition(name, body, block.exposed)
