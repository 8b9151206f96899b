"""``.nodegrad`` files (versioned JSON) and weights files (``.npz``, loaded without pickle).

Loading checks everything before building anything: a malformed file raises
:class:`~app.graph.errors.FileFormatError` listing every problem with its location, e.g.
``nodes[3].params.units: expected a positive int, got -4``. Nothing in a file is executed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from app.graph.document import FORMAT, VERSION, GraphDocument
from app.graph.errors import FileFormatError, ParamError
from app.graph.mutations import TRAINING_PARAMS, Edge, Node, TrainingSettings
from app.graph.specs import REGISTRY, PortSpec, get_spec, kinds_compatible

# Upgrades of older files: MIGRATIONS[v] turns version-v data into version v + 1 data.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_TOP_KEYS = ("format", "version", "nodes", "edges", "training")
_NODE_KEYS = ("id", "type", "label", "position", "params")
_EDGE_KEYS = ("src", "src_port", "dst", "dst_port")


def dumps(doc: GraphDocument) -> str:
    """The document as ``.nodegrad`` text (UTF-8 JSON, stable key order, newline at the end)."""
    return json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"


def loads(text: str, path: str | None = None) -> GraphDocument:
    """Parse ``.nodegrad`` text; raises :class:`FileFormatError` listing every problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise FileFormatError(
            [f"line {err.lineno} column {err.colno}: not valid JSON ({err.msg})"], path
        ) from None
    return document_from_data(data, path)


def load(
    path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None
) -> GraphDocument:
    """Read a ``.nodegrad`` file; raises :class:`FileFormatError` naming the file.

    Relative file parameters (a Dataset's ``path``) are read from ``base_dir``, by default the
    file's own folder (e.g. a recovered copy passes its original's folder).
    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as err:
        raise FileFormatError([f"cannot read the file: {err.strerror}"], name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileFormatError([f"byte {err.start}: not UTF-8 text"], name) from None
    doc = loads(text, name)
    doc.base_dir = Path(os.path.abspath(name)).parent if base_dir is None else Path(base_dir)
    return doc


def save(doc: GraphDocument, path: str | os.PathLike[str]) -> None:
    """Write ``doc`` to ``path`` atomically (a crash leaves the old file intact)."""
    text = dumps(doc).encode("utf-8")
    _atomic_write(Path(path), lambda handle: handle.write(text))


def weights_path(path: str | os.PathLike[str]) -> Path:
    """The weights file beside a ``.nodegrad`` file: same name, ``.npz`` suffix."""
    return Path(path).with_suffix(".npz")


def save_weights(weights: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Save named arrays (``"node_id.param"`` -> array) to an ``.npz`` file, atomically."""
    arrays: dict[str, Any] = {}  # Any: np.savez types **kwds as if one could be allow_pickle
    for name, value in weights.items():
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise FileFormatError([f"{name}: weights must be numbers, got {array.dtype}"])
        arrays[name] = array
    _atomic_write(Path(path), lambda handle: np.savez(handle, **arrays))


def load_weights(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load named arrays saved by :func:`save_weights` (never unpickles anything)."""
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise FileFormatError(["expected an .npz archive of named arrays"], name)
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise FileFormatError([f"not a readable weights archive: {err}"], name) from None


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file beside ``path``, then rename it over ``path``.

    The file gets the permissions of the file it replaces, else those of any new file (0666
    less the umask): the temporary file is created with ``os.open``, which applies the umask,
    not with ``tempfile.mkstemp`` (always 0600).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def document_from_data(data: Any, path: str | None = None) -> GraphDocument:
    """Check parsed JSON data and build the document; every problem is reported at once."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise FileFormatError([f"(top level): expected an object, got {_kind(data)}"], path)
    data = _migrate(data, problems)
    if problems:
        raise FileFormatError(problems, path)
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key (expected one of {', '.join(_TOP_KEYS)})")
    raw_nodes = data.get("nodes", [])
    nodes = _read_nodes(raw_nodes, problems)
    # Wires of nodes already reported (or of an unreadable node list) are not checked again.
    mentioned = (
        {n.get("id") for n in raw_nodes if isinstance(n, dict)}
        if isinstance(raw_nodes, list)
        else None
    )
    edges = _read_edges(data.get("edges", []), nodes, mentioned, problems)
    training = _read_training(data.get("training", {}), problems)
    if problems:
        raise FileFormatError(problems, path)
    return GraphDocument._build(nodes.values(), edges, training)


def _migrate(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
        return data
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"version: expected a positive int, got {version!r}")
    elif version > VERSION:
        problems.append(
            f"version: the file is version {version}, this nodegrad reads up to version "
            f"{VERSION}; update nodegrad"
        )
    else:
        while version < VERSION:
            data = MIGRATIONS[version](data)
            version += 1
    return data


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {value!r}"
    return names.get(type(value), type(value).__name__)


def _read_nodes(raw: Any, problems: list[str]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    if not isinstance(raw, list):
        problems.append(f"nodes: expected a list, got {_kind(raw)}")
        return nodes
    seen: set[str] = set()
    for i, item in enumerate(raw):
        node = _read_node(f"nodes[{i}]", item, problems)
        node_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(node_id, str):
            # Checked on the raw id, so a copy that has other problems is reported as one too.
            if node_id in seen:
                problems.append(f"nodes[{i}].id: duplicate id {node_id!r}")
                continue
            seen.add(node_id)
        if node is not None:
            nodes[node.id] = node
    return nodes


def _read_node(where: str, item: Any, problems: list[str]) -> Node | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {_kind(item)}")
        return None
    before = len(problems)
    problems.extend(f"{where}.{k}: unknown key" for k in item if k not in _NODE_KEYS)
    node_id, type_id = item.get("id"), item.get("type")
    if not isinstance(node_id, str) or not node_id.isidentifier():
        problems.append(f"{where}.id: expected an identifier like 'linear_1', got {node_id!r}")
    if type_id not in REGISTRY:
        known = "" if isinstance(type_id, str) else f" (got {_kind(type_id)})"
        problems.append(f"{where}.type: unknown node type {type_id!r}{known}")
    label = item.get("label", "")
    if not isinstance(label, str):
        problems.append(f"{where}.label: expected a string, got {_kind(label)}")
    position = item.get("position", [0.0, 0.0])
    if not _is_position(position):
        problems.append(f"{where}.position: expected [x, y] numbers, got {position!r}")
    params = _read_params(where, type_id, item.get("params", {}), problems)
    if len(problems) > before:
        return None
    x, y = (float(v) for v in position)
    return Node(str(node_id), get_spec(str(type_id)).type_id, params, (x, y), label)


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(v) for v in value)
    )


def _read_params(where: str, type_id: Any, raw: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where}.params: expected an object, got {_kind(raw)}")
        return {}
    if type_id not in REGISTRY:
        return {}
    spec = get_spec(type_id)
    names = {p.name for p in spec.params}
    for key in raw:
        if key not in names:
            problems.append(f"{where}.params.{key}: {spec.title} has no parameter {key!r}")
    values = {}
    for p in spec.params:
        try:
            values[p.name] = p.coerce(raw.get(p.name, p.default))
        except ParamError as err:
            problems.append(f"{where}.params.{p.name}: {err.message}")
    return values


def _read_edges(
    raw: Any, nodes: Mapping[str, Node], mentioned: set[Any] | None, problems: list[str]
) -> list[Edge]:
    if not isinstance(raw, list):
        problems.append(f"edges: expected a list, got {_kind(raw)}")
        return []
    edges: dict[tuple[str, str], tuple[int, Edge]] = {}
    for j, item in enumerate(raw):
        edge = _read_edge(f"edges[{j}]", item, problems)
        if edge is None or mentioned is None:
            continue
        if not _check_ends(f"edges[{j}]", edge, nodes, mentioned, problems):
            continue
        key = (edge.dst, edge.dst_port)
        if key in edges:
            problems.append(
                f"edges[{j}]: input {edge.dst}.{edge.dst_port} already has a wire "
                f"(edges[{edges[key][0]}]); an input takes one wire"
            )
            continue
        edges[key] = (j, edge)
    return [edge for _, edge in edges.values()]


def _read_edge(where: str, item: Any, problems: list[str]) -> Edge | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {_kind(item)}")
        return None
    before = len(problems)
    problems.extend(f"{where}.{k}: unknown key" for k in item if k not in _EDGE_KEYS)
    for key in _EDGE_KEYS:
        if not isinstance(item.get(key), str):
            problems.append(f"{where}.{key}: expected a string, got {_kind(item.get(key))}")
    return None if len(problems) > before else Edge(*(item[k] for k in _EDGE_KEYS))


def _check_ends(
    where: str, edge: Edge, nodes: Mapping[str, Node], mentioned: set[Any], problems: list[str]
) -> bool:
    """Both ends exist with those ports and kinds that fit; a node already reported is skipped."""
    if edge.src in mentioned - nodes.keys() or edge.dst in mentioned - nodes.keys():
        return False
    out = _port(f"{where}.src", nodes, edge.src, edge.src_port, "output", problems)
    into = _port(f"{where}.dst", nodes, edge.dst, edge.dst_port, "input", problems)
    if out is None or into is None:
        return False
    if not kinds_compatible(out.kind, into.kind):
        problems.append(
            f"{where}: {edge.src}.{edge.src_port} carries {out.kind.value} values but "
            f"{edge.dst}.{edge.dst_port} takes {into.kind.value} values"
        )
        return False
    if edge.src == edge.dst:
        problems.append(f"{where}: node {edge.src!r} is wired into itself")
        return False
    return True


def _port(
    where: str,
    nodes: Mapping[str, Node],
    node_id: str,
    port: str,
    side: Literal["input", "output"],
    problems: list[str],
) -> PortSpec | None:
    """The ``side`` port ``port`` of node ``node_id``; None (and a problem) when missing."""
    if node_id not in nodes:
        problems.append(f"{where}: no node {node_id!r} (the wire dangles)")
        return None
    spec = nodes[node_id].spec
    found = spec.output(port) if side == "output" else spec.input(port)
    if found is None:
        problems.append(f"{where}_port: {spec.title} has no {side} {port!r}")
    return found


def _read_training(raw: Any, problems: list[str]) -> TrainingSettings:
    if not isinstance(raw, dict):
        problems.append(f"training: expected an object, got {_kind(raw)}")
        return TrainingSettings()
    names = {p.name for p in TRAINING_PARAMS}
    problems.extend(f"training.{k}: unknown setting" for k in raw if k not in names)
    values = {}
    for p in TRAINING_PARAMS:
        if p.name in raw:
            try:
                values[p.name] = p.coerce(raw[p.name])
            except ParamError as err:
                problems.append(f"training.{p.name}: {err.message}")
    return TrainingSettings(**values)
