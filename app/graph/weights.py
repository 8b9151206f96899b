"""Weights files: ``.safetensors`` beside the graph; legacy ``.npz`` archives still load.

Nothing is unpickled or executed, and every file is checked from its headers before any array
is read in full: the ``.safetensors`` JSON header, or the ``.npy`` header of each ``.npz`` member
(read through the decompressor, a few hundred bytes). Refused with a clear
:class:`~app.graph.errors.FileFormatError`: files of another kind (a lone ``.npy`` included),
members that are not arrays, arrays that are not floating-point, declared sizes the file does
not hold, archives that expand far beyond their size (zip bombs) or beyond the machine's
memory, and, given ``expected`` names and shapes, any missing, unexpected or misshapen array
(:class:`WeightsMismatchError` lists them).
"""

from __future__ import annotations

import json
import lzma
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.graph.errors import FileFormatError
from app.graph.memory import total_memory

SUFFIX = ".safetensors"
LEGACY_SUFFIX = ".npz"
MAX_HEADER_BYTES = 64 * 1024 * 1024
"""A ``.safetensors`` header larger than this is refused (real ones take kilobytes)."""
MAX_EXPANSION = 20
"""An ``.npz`` member over :data:`BOMB_FLOOR` bytes may expand at most this many times."""
BOMB_FLOOR = 16 * 1024 * 1024
_FLOATS = {"F16": np.float16, "F32": np.float32, "F64": np.float64}
_NPY_MAGIC = b"\x93NUMPY"


class WeightsMismatchError(FileFormatError):
    """The file's arrays do not fit the graph: ``mismatches`` maps each name to the reason.

    Reasons read ``missing``, ``not in the graph``, ``shape 3×4, the graph needs 4×3``.
    """

    def __init__(self, mismatches: Mapping[str, str], path: str | None = None) -> None:
        self.mismatches = dict(mismatches)
        super().__init__([f"{name}: {why}" for name, why in self.mismatches.items()], path)


@dataclass(frozen=True)
class _Entry:
    """One array as its header declares it."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


def weights_path(path: str | os.PathLike[str]) -> Path:
    """The weights file beside a ``.nodegrad`` file: same name, ``.safetensors`` suffix."""
    return Path(path).with_suffix(SUFFIX)


def find_weights(path: str | os.PathLike[str]) -> Path | None:
    """The weights file saved beside a graph: the ``.safetensors``, else a legacy ``.npz``."""
    for candidate in (weights_path(path), Path(path).with_suffix(LEGACY_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def weights_bytes(weights: Mapping[str, np.ndarray]) -> bytes:
    """Named floating-point arrays as ``.safetensors`` bytes; refuses other dtypes."""
    from safetensors.numpy import save

    arrays = {}
    for name, value in weights.items():
        array = np.asarray(value)
        if array.dtype.kind != "f" or array.dtype.str[1:] not in ("f2", "f4", "f8"):
            raise FileFormatError(
                [f"{name}: weights must be floating-point numbers, got {array.dtype}"]
            )
        arrays[name] = np.ascontiguousarray(array)
    return bytes(save(arrays))


def read_weights(
    path: str | os.PathLike[str], expected: Mapping[str, Iterable[int]] | None = None
) -> dict[str, np.ndarray]:
    """The arrays of a ``.safetensors`` (or legacy ``.npz``) file, checked before reading.

    ``expected`` maps every name the graph needs to its shape; then anything missing, extra or
    misshapen raises :class:`WeightsMismatchError` before an array is read.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            start = handle.read(8)
            size = os.fstat(handle.fileno()).st_size
            if start[:2] == b"PK":
                return _read_npz(name, expected)
            if start[:6] == _NPY_MAGIC:
                raise FileFormatError(
                    ["a single .npy array, not a weights file (.safetensors of named arrays)"], name
                )
            entries = _safetensors_entries(handle, start, size, name)
    except OSError as err:
        raise FileFormatError([f"cannot read the weights file: {err.strerror}"], name) from None
    _check(entries, expected, name)
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return dict(load_file(name))
    except (SafetensorError, OSError, ValueError) as err:
        raise FileFormatError([f"not a readable .safetensors file: {err}"], name) from None


def _safetensors_entries(handle: IO[bytes], start: bytes, size: int, name: str) -> list[_Entry]:
    """The arrays a ``.safetensors`` header declares, checked against the file's size."""

    def bad(why: str) -> FileFormatError:
        return FileFormatError([f"not a weights file (.safetensors or .npz): {why}"], name)

    if len(start) < 8:
        raise bad("too short")
    (length,) = struct.unpack("<Q", start)
    if length > min(MAX_HEADER_BYTES, size - 8):
        raise bad("no .safetensors header")
    try:
        header = json.loads(handle.read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("the .safetensors header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("the .safetensors header is not an object")
    entries, data_size = [], size - 8 - length
    for key, info in header.items():
        if key == "__metadata__":
            continue
        where = key[:80]
        if not isinstance(info, dict):
            raise FileFormatError([f"{where}: not an array description"], name)
        dtype = info.get("dtype")
        shape: Any = info.get("shape")
        offsets: Any = info.get("data_offsets")
        if dtype not in _FLOATS:
            raise FileFormatError(
                [f"{where}: weights must be floating-point numbers, got {str(dtype)[:20]}"], name
            )
        if not _is_shape(shape) or not _is_shape(offsets) or len(offsets) != 2:
            raise FileFormatError([f"{where}: not an array description"], name)
        item = np.dtype(_FLOATS[dtype])
        begin, end = offsets
        if not begin <= end <= data_size or end - begin != math.prod(shape) * item.itemsize:
            raise FileFormatError(
                [f"{where}: declares {_shape(shape)} values the file does not hold"], name
            )
        entries.append(_Entry(key, tuple(shape), item))
    return entries


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**62 for d in value
    )


def _read_npz(name: str, expected: Mapping[str, Iterable[int]] | None) -> dict[str, np.ndarray]:
    """A legacy ``.npz`` archive: member headers checked, then the arrays read."""
    try:
        with zipfile.ZipFile(name) as archive:
            members = archive.infolist()
            entries = [_npz_entry(archive, m, name) for m in members]
            _check_expansion(members, name)
            _check(entries, expected, name)
            arrays = {}
            for member, entry in zip(members, entries, strict=True):
                with archive.open(member) as stream:
                    arrays[entry.name] = np.lib.format.read_array(stream, allow_pickle=False)
            return arrays
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        OSError,
        zlib.error,
        lzma.LZMAError,
    ) as err:
        raise FileFormatError([f"not a readable weights archive: {err}"], name) from None
    except (NotImplementedError, RuntimeError) as err:  # unknown compression, encryption
        raise FileFormatError([f"not a readable weights archive: {err}"], name) from None


def _npz_entry(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> _Entry:
    """An ``.npz`` member's array header (read through the decompressor: a few hundred bytes)."""
    key = member.filename.removesuffix(".npy")
    where = key[:80]
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        except (ValueError, EOFError, SyntaxError, TypeError):
            raise FileFormatError([f"{where}: the archive member is not an array"], name) from None
    if dtype.kind != "f" or dtype.hasobject:
        raise FileFormatError(
            [f"{where}: weights must be floating-point numbers, got {dtype}"], name
        )
    if math.prod(shape) * dtype.itemsize > member.file_size:
        raise FileFormatError(
            [f"{where}: declares {_shape(list(shape))} values the archive does not hold"], name
        )
    return _Entry(key, tuple(shape), dtype)


def _check_expansion(members: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse zip bombs and archives larger than the machine's memory once expanded."""
    for m in members:
        if m.file_size > BOMB_FLOOR and m.file_size > MAX_EXPANSION * max(m.compress_size, 1):
            raise FileFormatError(
                [
                    f"{m.filename[:80]}: expands from {m.compress_size:,} to {m.file_size:,} "
                    "bytes, not weights (a zip bomb?)"
                ],
                name,
            )
    total, limit = sum(m.file_size for m in members), total_memory()
    if limit is not None and total > limit // 2:
        raise FileFormatError(
            [f"(archive): expands to {total:,} bytes, more than half this machine's memory"], name
        )


def _check(entries: list[_Entry], expected: Mapping[str, Iterable[int]] | None, name: str) -> None:
    """Refuse duplicate names, and, given ``expected``, every mismatching name."""
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise FileFormatError([f"{entry.name[:80]}: appears twice"], name)
        seen.add(entry.name)
    if expected is None:
        return
    wanted = {key: tuple(shape) for key, shape in expected.items()}
    found = {entry.name: entry.shape for entry in entries}
    mismatches: dict[str, str] = {}
    for key, shape in wanted.items():
        if key not in found:
            mismatches[key] = "missing"
        elif found[key] != shape:
            mismatches[key] = f"shape {_shape(found[key])}, the graph needs {_shape(shape)}"
    for key in found.keys() - wanted.keys():
        mismatches[key[:80]] = "not in the graph"
    if mismatches:
        raise WeightsMismatchError(dict(sorted(mismatches.items())), name)


def _shape(shape: Iterable[int]) -> str:
    dims = list(shape)
    return "×".join(str(d) for d in dims) if dims else "scalar"
