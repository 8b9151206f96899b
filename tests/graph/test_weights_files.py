"""Weights files: ``.safetensors`` beside the graph, legacy ``.npz``, and hostile files."""

from __future__ import annotations

import io as bytes_io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file, save

from app.graph import io, weights
from app.graph.errors import FileFormatError
from app.graph.weights import WeightsMismatchError

WEIGHTS = {
    "fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
    "fc.bias": np.zeros(3, dtype=np.float32),
}
EXPECTED = {"fc.weight": (2, 3), "fc.bias": (3,)}


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = bytes_io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_weights_are_safetensors_beside_the_graph_readable_without_nodegrad(
    tmp_path: Path,
) -> None:
    path = io.weights_path(tmp_path / "model.nodegrad")
    assert path == tmp_path / "model.safetensors"
    io.save_weights(WEIGHTS, path)
    for loaded in (load_file(str(path)), io.load_weights(path, EXPECTED)):
        assert loaded.keys() == WEIGHTS.keys()
        for name, value in WEIGHTS.items():
            np.testing.assert_array_equal(loaded[name], value)
            assert loaded[name].dtype == value.dtype
    assert io.find_weights(tmp_path / "model.nodegrad") == path


def test_legacy_npz_still_loads_and_the_next_save_writes_safetensors(tmp_path: Path) -> None:
    graph = tmp_path / "old.nodegrad"
    legacy = tmp_path / "old.npz"
    np.savez(legacy, **WEIGHTS)
    assert io.find_weights(graph) == legacy
    loaded = io.load_weights(legacy, EXPECTED)
    np.testing.assert_array_equal(loaded["fc.weight"], WEIGHTS["fc.weight"])
    io.save_weights(loaded, io.weights_path(graph))
    assert io.find_weights(graph) == tmp_path / "old.safetensors"


def hostile_files(tmp_path: Path) -> list[tuple[Path, str]]:
    npy = tmp_path / "single.safetensors"
    npy.write_bytes(npy_bytes(np.zeros(3, np.float32)))
    header = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    huge = write_zip(tmp_path / "huge.npz", {"w.npy": header.getvalue() + b"\0" * 64})
    not_array = write_zip(tmp_path / "text.npz", {"w.npy": b"hello, not an array"})
    zeros = npy_bytes(np.zeros(5_000_000, np.float32))  # 20 MB, deflates to about 20 KB
    bomb = write_zip(tmp_path / "bomb.npz", {"w.npy": zeros})
    cases = [
        (npy, "a single .npy array"),
        (huge, "w: declares 1000000×1000000 values the archive does not hold"),
        (not_array, "w: the archive member is not an array"),
        (bomb, "w.npy: expands from"),
    ]
    for dtype in (np.bool_, np.complex64, np.str_, "datetime64[s]", np.int32, object):
        kind = np.dtype(dtype).kind
        cases.append(
            (
                write_zip(tmp_path / f"{kind}.npz", {"w.npy": npy_bytes(np.zeros(2, dtype))}),
                "w: weights must be floating-point numbers",
            )
        )
    for array in (np.zeros(2, np.bool_), np.zeros(2, np.int64)):
        path = tmp_path / f"{array.dtype}.safetensors"
        path.write_bytes(save({"w": array}))
        cases.append((path, "w: weights must be floating-point numbers"))
    lying = bytearray(save({"w": np.zeros((4, 4), np.float32)}))
    short = tmp_path / "short.safetensors"
    short.write_bytes(bytes(lying[:-8]))
    cases.append((short, "w: declares 4×4 values the file does not hold"))
    return cases


def test_hostile_weights_files_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an array was read before its header was checked")

    monkeypatch.setattr(np.lib.format, "read_array", never)
    monkeypatch.setattr(weights, "total_memory", lambda: 2**40)
    for path, problem in hostile_files(tmp_path):
        with pytest.raises(FileFormatError) as info:
            io.load_weights(path)
        assert info.value.problems[0].startswith(problem), (path.name, info.value.problems)
        assert info.value.path == str(path)


def test_an_archive_larger_than_half_the_memory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_zip(tmp_path / "w.npz", {"w.npy": npy_bytes(np.zeros(1000, np.float32))})
    monkeypatch.setattr(weights, "total_memory", lambda: 4000)
    with pytest.raises(FileFormatError, match="more than half this machine's memory"):
        io.load_weights(path)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_weights_that_do_not_fit_the_graph_list_every_mismatch_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = tmp_path / f"w{suffix}"
    if suffix == ".npz":
        np.savez(path, **WEIGHTS, extra=np.zeros(1, np.float32))
    else:
        io.save_weights({**WEIGHTS, "extra": np.zeros(1, np.float32)}, path)
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: 1 / 0)
    expected = {"fc.weight": (3, 2), "fc.bias": (3,), "out.weight": (3, 1)}
    with pytest.raises(WeightsMismatchError) as info:
        io.load_weights(path, expected)
    assert info.value.mismatches == {
        "extra": "not in the graph",
        "fc.weight": "shape 2×3, the graph needs 3×2",
        "out.weight": "missing",
    }
    assert "fc.weight: shape 2×3, the graph needs 3×2" in info.value.problems


def test_only_float_weights_are_saved(tmp_path: Path) -> None:
    for bad in (np.array(["a"]), np.array([True]), np.array([1 + 2j]), np.array([1])):
        with pytest.raises(FileFormatError, match="weights must be floating-point numbers"):
            io.save_weights({"w": bad}, tmp_path / "w.safetensors")
    assert not list(tmp_path.iterdir())


def test_mutated_weights_files_raise_only_file_format_errors(tmp_path: Path) -> None:
    """Seeded byte mutations of a valid .safetensors and .npz: loaded or FileFormatError."""
    rng = np.random.default_rng(7)
    safetensors = tmp_path / "w.safetensors"
    io.save_weights(WEIGHTS, safetensors)
    legacy = tmp_path / "w.npz"
    np.savez_compressed(legacy, **WEIGHTS)
    outcomes = {"loaded": 0, "refused": 0}
    for source in (safetensors, legacy):
        good = source.read_bytes()
        for case in range(150):
            data = bytearray(good)
            for _ in range(int(rng.integers(1, 4))):
                at = int(rng.integers(len(data)))
                data[at] = int(rng.integers(256))
            if case % 5 == 0:
                data = data[: int(rng.integers(len(data)))]
            path = tmp_path / f"case{source.suffix}"
            path.write_bytes(bytes(data))
            try:
                io.load_weights(path)
            except FileFormatError:
                outcomes["refused"] += 1
            else:
                outcomes["loaded"] += 1
    assert outcomes["refused"] > 50 and outcomes["loaded"] > 0, outcomes


def test_the_export_reads_legacy_weights_beside_the_graph(tmp_path: Path) -> None:
    from app.graph.export.command import graph_weights

    graph = tmp_path / "old.nodegrad"
    assert graph_weights(graph) is None
    np.savez(tmp_path / "old.npz", **WEIGHTS)
    found = graph_weights(graph)
    assert found is not None and found.keys() == WEIGHTS.keys()
