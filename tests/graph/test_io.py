"""``.nodegrad`` files and weights: round trips and every kind of malformed file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.errors import FileFormatError


def sample() -> GraphDocument:
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "iris"}, position=(0, 0))
    doc.add_node("linear", {"units": 3}, position=(200, 10), label="head")
    doc.add_node("cross_entropy_loss", position=(400, 0))
    doc.connect("dataset_1", "x", "linear_1", "x")
    doc.connect("linear_1", "y", "cross_entropy_loss_1", "logits")
    doc.connect("dataset_1", "y", "cross_entropy_loss_1", "target")
    doc.set_setting("optimizer", "sgd")
    doc.set_setting("learning_rate", 0.5)
    return doc


def problems_of(data: Any) -> list[str]:
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(FileFormatError) as info:
        io.loads(text)
    return info.value.problems


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    doc = sample()
    path = tmp_path / "model.nodegrad"
    io.save(doc, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "format": "nodegrad",\n  "version": 2,')
    again = io.load(path)
    assert again.to_dict() == doc.to_dict()
    assert io.dumps(again) == text
    assert [p.name for p in tmp_path.iterdir()] == ["model.nodegrad"]


def test_missing_optional_fields_take_defaults() -> None:
    doc = io.loads('{"format": "nodegrad", "version": 1, "nodes": [{"id": "a", "type": "relu"}]}')
    node = doc.nodes["a"]
    assert (node.position, node.label, dict(node.params)) == ((0.0, 0.0), "", {})
    assert doc.training == GraphDocument().training


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(format="other"), ["format: expected 'nodegrad', got 'other'"]),
        (
            lambda d: d.update(version=3),
            [
                "version: the file is version 3, this nodegrad reads "
                "up to version 2; update nodegrad"
            ],
        ),
        (lambda d: d.update(version="1"), ["version: expected a positive int, got '1'"]),
        (
            lambda d: d.update(extra=1),
            [
                "extra: unknown key (expected one of format, version, nodes, edges, training, "
                "blocks)"
            ],
        ),
        (lambda d: d.update(nodes={}), ["nodes: expected a list, got an object"]),
        (
            lambda d: d["nodes"][1]["params"].update(units=-4),
            ["nodes[1].params.units: expected a positive int, got -4"],
        ),
        (
            lambda d: d["nodes"][1]["params"].update(units="8"),
            ["nodes[1].params.units: expected a positive int (at most 100000), got '8'"],
        ),
        (
            lambda d: d["nodes"][1]["params"].update(size=3),
            ["nodes[1].params.size: Linear has no parameter 'size'"],
        ),
        (
            lambda d: d["nodes"][1].update(type="Dense"),
            ["nodes[1].type: unknown node type 'Dense'"],
        ),
        (
            lambda d: d["nodes"][1].update(id="dataset_1"),
            [
                "nodes[1].id: duplicate id 'dataset_1'",
                "edges[0].dst: There is no node 'linear_1'",
                "edges[1].src: There is no node 'linear_1'",
            ],
        ),
        (
            lambda d: d["nodes"][1].update(id="dataset_1", type="Dense"),
            [
                "nodes[1].type: unknown node type 'Dense'",
                "nodes[1].id: duplicate id 'dataset_1'",
                "edges[0].dst: There is no node 'linear_1'",
                "edges[1].src: There is no node 'linear_1'",
            ],
        ),
        (
            lambda d: d["nodes"][0].update(id="1 bad"),
            [
                "nodes[0].id: expected an identifier like 'linear_1', got '1 bad'",
                "edges[0].src: There is no node 'dataset_1'",
                "edges[2].src: There is no node 'dataset_1'",
            ],
        ),
        (
            lambda d: d["nodes"][0].update(position=[1]),
            ["nodes[0].position: expected [x, y] finite numbers, got [1]"],
        ),
        (
            lambda d: d["nodes"][0].update(label=3),
            ["nodes[0].label: expected a string, got the number 3"],
        ),
        (lambda d: d["nodes"][0].update(colour="red"), ["nodes[0].colour: unknown key"]),
        (lambda d: d["nodes"].append(7), ["nodes[3]: expected an object, got the number 7"]),
        (
            lambda d: d["edges"][0].update(src="ghost"),
            ["edges[0].src: There is no node 'ghost'"],
        ),
        (
            lambda d: d["edges"][0].update(dst_port="z"),
            ["edges[0].dst_port: Linear 'head' has no input 'z'"],
        ),
        (
            lambda d: d["edges"][0].update(src_port=None),
            ["edges[0].src_port: expected a string, got null"],
        ),
        (
            lambda d: d["edges"].append(dict(d["edges"][0])),
            ["edges[3]: input linear_1.x already has a wire (edges[0]); an input takes one wire"],
        ),
        (
            lambda d: d["edges"].append(
                {
                    "src": "cross_entropy_loss_1",
                    "src_port": "loss",
                    "dst": "linear_1",
                    "dst_port": "x",
                }
            ),
            None,
        ),
        (
            lambda d: d["edges"].append(
                {"src": "linear_1", "src_port": "y", "dst": "linear_1", "dst_port": "x"}
            ),
            None,
        ),
        (
            lambda d: d["training"].update(batch_size=0),
            ["training.batch_size: expected a positive int, got 0"],
        ),
        (
            lambda d: d["training"].update(optimizer="rmsprop"),
            ["training.optimizer: expected one of 'sgd', 'adam', 'adamw', got 'rmsprop'"],
        ),
        (lambda d: d["training"].update(speed=2), ["training.speed: unknown setting"]),
        (lambda d: d.update(training=[]), ["training: expected an object, got a list"]),
    ],
)
def test_malformed_files_list_every_problem_with_its_location(mutate, expected) -> None:
    data = sample().to_dict()
    mutate(data)
    problems = problems_of(data)
    if expected is None:
        assert problems and problems[0].startswith("edges[3]")
    else:
        assert problems == expected


def test_several_problems_are_reported_together() -> None:
    data = sample().to_dict()
    data["nodes"][1]["params"]["units"] = -4
    data["nodes"][2]["type"] = "nope"
    data["training"]["epochs"] = "many"
    problems = problems_of(data)
    assert problems == [
        "nodes[1].params.units: expected a positive int, got -4",
        "nodes[2].type: unknown node type 'nope'",
        "training.epochs: expected a positive int (at most 100000), got 'many'",
    ]
    with pytest.raises(FileFormatError, match="3 problems in the file"):
        io.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{nope", "line 1 column 2: not valid JSON"),
        ("[1, 2]", "(top level): expected an object, got a list"),
        ("", "line 1 column 1: not valid JSON"),
    ],
)
def test_not_a_document(text: str, problem: str) -> None:
    assert problems_of(text)[0].startswith(problem)


def test_load_names_the_file_and_never_half_loads(tmp_path: Path) -> None:
    path = tmp_path / "broken.nodegrad"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(FileFormatError, match=r"broken\.nodegrad") as info:
        io.load(path)
    assert info.value.path == str(path)
    assert "not UTF-8" in info.value.problems[0]
    with pytest.raises(FileFormatError, match="cannot read the file"):
        io.load(tmp_path / "missing.nodegrad")


def test_weights_round_trip_without_pickle(tmp_path: Path) -> None:
    weights = {
        "linear_1.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
        "linear_1.bias": np.zeros(3, dtype=np.float32),
    }
    path = io.weights_path(tmp_path / "model.nodegrad")
    assert path.name == "model.safetensors"
    io.save_weights(weights, path)
    loaded = io.load_weights(path)
    assert loaded.keys() == weights.keys()
    for name, value in weights.items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype


def test_pickled_or_broken_weights_are_refused(tmp_path: Path) -> None:
    pickled = tmp_path / "evil.npz"
    np.savez(pickled, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match=r"evil\.npz"):
        io.load_weights(pickled)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="not a weights file"):
        io.load_weights(broken)
    with pytest.raises(FileFormatError, match="weights must be floating-point numbers"):
        io.save_weights({"w": np.array(["a"])}, tmp_path / "s.npz")


@pytest.fixture
def umask() -> Any:
    """Set the process umask for one test (restored after)."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_saved_files_get_the_normal_permissions(tmp_path: Path, umask: Any, mask: int) -> None:
    umask(mask)
    graph, weights = tmp_path / "model.nodegrad", tmp_path / "model.npz"
    io.save(sample(), graph)
    io.save_weights({"w": np.zeros(2)}, weights)
    for path in (graph, weights):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.nodegrad", "model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path, umask: Any) -> None:
    umask(0o022)
    path = tmp_path / "model.nodegrad"
    io.save(sample(), path)
    path.chmod(0o640)
    io.save(GraphDocument(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert io.load(path).nodes == {}


def test_saving_syncs_the_file_before_the_rename_and_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        calls.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    io.save(sample(), tmp_path / "model.nodegrad")
    expected = ["fsync file", "rename", "fsync folder"]
    assert calls == (expected if os.name == "posix" else expected[:2])


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "model.nodegrad"
    stale = tmp_path / ".model.nodegrad.0badf00d.tmp"
    fresh = tmp_path / ".model.nodegrad.1234abcd.tmp"  # another save, still writing
    other = tmp_path / ".other.nodegrad.0badf00d.tmp"
    for tmp in (stale, fresh, other):
        tmp.write_text("half a file")
    old = stale.stat().st_mtime - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    io.save(sample(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, fresh.name, other.name])
