"""``.nodegrad`` files (versioned JSON) and weights files (``.safetensors``; legacy ``.npz``).

Loading checks everything before building anything: a malformed file raises
:class:`~app.graph.errors.FileFormatError` listing every problem with its location, e.g.
``nodes[3].params.units: expected a positive int, got -4``. Nothing in a file is executed. The
format itself (its name, version and parser) is :mod:`app.graph.fileformat`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError
from app.graph.fileformat import (
    FORMAT,
    MIGRATIONS,
    VERSION,
    may_hold_surrogates,
    parse_text,
    read_parts,
)
from app.graph.weights import (
    WeightsMismatchError,
    find_weights,
    read_weights,
    weights_bytes,
    weights_path,
)

__all__ = [
    "FORMAT",
    "MIGRATIONS",
    "VERSION",
    "FileFormatError",
    "WeightsMismatchError",
    "document_from_data",
    "dumps",
    "find_weights",
    "load",
    "load_weights",
    "loads",
    "save",
    "save_weights",
    "weights_path",
]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger ``.nodegrad`` files are refused unread (the largest real graphs take a few MB)."""
STALE_SECONDS = 60.0
"""A temporary file of a save older than this was left by a save that was killed."""


def dumps(doc: GraphDocument) -> str:
    """The document as ``.nodegrad`` text (UTF-8 JSON, stable key order, newline at the end)."""
    return json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"


def loads(text: str, path: str | None = None) -> GraphDocument:
    """Parse ``.nodegrad`` text; raises :class:`FileFormatError` listing every problem."""
    parts = read_parts(parse_text(text, path), path, check_text=may_hold_surrogates(text))
    return GraphDocument.from_parts(parts.nodes, parts.edges, parts.training, parts.blocks)


def document_from_data(data: Any, path: str | None = None) -> GraphDocument:
    """Check parsed JSON data and build the document; every problem is reported at once."""
    parts = read_parts(data, path)
    return GraphDocument.from_parts(parts.nodes, parts.edges, parts.training, parts.blocks)


def load(
    path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None
) -> GraphDocument:
    """Read a ``.nodegrad`` file; raises :class:`FileFormatError` naming the file.

    Relative file parameters (a Dataset's ``path``) are read from ``base_dir``, by default the
    file's own folder (e.g. a recovered copy passes its original's folder).
    """
    name = os.fspath(path)
    doc = loads(read_text_file(name, MAX_FILE_BYTES, "a nodegrad graph"), name)
    doc.base_dir = Path(os.path.abspath(name)).parent if base_dir is None else Path(base_dir)
    return doc


def read_text_file(name: str, limit: int, what: str) -> str:
    """The UTF-8 text of file ``name``, refused unread past ``limit`` bytes.

    Raises
    ------
    FileFormatError
        The file cannot be read, is larger than ``limit`` (``what`` says what it should have
        been) or is not UTF-8.
    """
    try:
        with open(name, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as err:
        raise FileFormatError([f"cannot read the file: {err.strerror}"], name) from None
    if len(raw) > limit:
        raise FileFormatError([f"(top level): larger than {limit // 2**20} MiB, not {what}"], name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileFormatError([f"byte {err.start}: not UTF-8 text"], name) from None


def save(doc: GraphDocument, path: str | os.PathLike[str]) -> None:
    """Write ``doc`` to ``path`` atomically (a crash leaves the old file intact)."""
    text = dumps(doc).encode("utf-8")
    _atomic_write(Path(path), lambda handle: handle.write(text))


def save_weights(weights: Mapping[str, np.ndarray], path: str | os.PathLike[str]) -> None:
    """Save named float arrays (``"node_id.param"`` -> array) as ``.safetensors``, atomically.

    Whatever suffix ``path`` has, the file is ``.safetensors`` data (readable by PyTorch and
    other tools without nodegrad); :func:`weights_path` names it beside a graph.
    """
    data = weights_bytes(weights)
    _atomic_write(Path(path), lambda handle: handle.write(data))


def load_weights(
    path: str | os.PathLike[str], expected: Mapping[str, Iterable[int]] | None = None
) -> dict[str, np.ndarray]:
    """Load named arrays from a ``.safetensors`` file or a legacy ``.npz`` archive.

    Every header is checked before any array is read; nothing is unpickled. With ``expected``
    (name -> shape, every array the graph needs) a file that does not fit raises
    :class:`~app.graph.weights.WeightsMismatchError`, whose ``mismatches`` maps each wrong name
    to the reason. Other problems raise :class:`FileFormatError`.
    """
    return read_weights(path, expected)


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through a temporary file beside ``path``, then rename it over ``path``.

    The data reaches the disk (``fsync``) before the rename, and the rename itself after it (the
    folder is synced where the system allows), so a crash leaves the old file or the new one.
    Temporary files that killed saves of ``path`` left behind are removed. The file gets the
    permissions of the file it replaces, else those of any new file (0666 less the umask): the
    temporary file is created with ``os.open``, which applies the umask, not with
    ``tempfile.mkstemp`` (always 0600).
    """
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows: folders cannot be opened; NTFS journals the rename itself
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.NAME.xxxxxxxx.tmp`` files of ``path`` older than :data:`STALE_SECONDS`."""
    cutoff = time.time() - STALE_SECONDS
    with contextlib.suppress(OSError):
        for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
