"""Blocks in ``.nodegrad`` files: version 2 round trips, version 1 opens, bad blocks are named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.graph import io
from app.graph.blocks.files import MAX_DEPTH
from app.graph.blocks.grouping import expose, group
from app.graph.errors import FileFormatError
from app.graph.mutations import AddNode, Node
from tests.graph.test_blocks import RESIDUAL, mlp

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def grouped_data() -> dict[str, Any]:
    doc = mlp()
    doc.apply(group(doc, ["dense1", "act1"], name="inner"))
    doc.apply(group(doc, ["inner_1", "dense2"], name="outer"))
    doc.apply(expose(doc, "inner", "dense1", "units"))
    return doc.to_dict()


def problems(data: Any) -> list[str]:
    with pytest.raises(FileFormatError) as caught:
        io.loads(json.dumps(data))
    return caught.value.problems


def test_version_2_stores_each_definition_once_and_round_trips() -> None:
    doc = io.load(EXAMPLES / "residual_cnn.nodegrad")
    doc.apply(group(doc, RESIDUAL, name="residual"))
    block = doc.nodes["residual_1"].block
    assert block is not None
    doc.apply(AddNode(Node("residual_2", "block", {"repeat": 2}, (5, 5), block=block)))
    text = io.dumps(doc)
    data = json.loads(text)
    assert data["version"] == 2
    assert [b["name"] for b in data["blocks"]] == ["residual"]
    assert [n.get("block") for n in data["nodes"] if n["type"] == "block"] == ["residual"] * 2
    again = io.loads(text)
    assert io.dumps(again) == text
    assert again.nodes["residual_1"].block is again.nodes["residual_2"].block


def test_nested_definitions_are_written_after_the_ones_they_use() -> None:
    data = grouped_data()
    assert [b["name"] for b in data["blocks"]] == ["inner", "outer"]
    data["blocks"].reverse()  # any order reads back
    doc = io.loads(json.dumps(data))
    assert set(doc.blocks) == {"inner", "outer"}
    assert doc.blocks["inner"].exposed[0].name == "units"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.nodegrad")), ids=lambda p: p.stem)
def test_every_example_opens_unchanged_and_saves_as_version_2(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    doc = io.load(path)
    saved = json.loads(io.dumps(doc))
    assert saved["version"] == 2
    if raw["version"] == 1:
        assert [(n["id"], n["type"]) for n in saved["nodes"]] == [
            (n["id"], n["type"]) for n in raw["nodes"]
        ]
        for was, now in zip(raw["nodes"], saved["nodes"], strict=True):
            assert was.get("params", {}).items() <= now["params"].items()
        assert saved["edges"] == [e for e in saved["edges"] if e in raw["edges"]]


def test_a_missing_block_is_named() -> None:
    data = grouped_data()
    data["blocks"] = [b for b in data["blocks"] if b["name"] != "inner"]
    found = problems(data)
    assert any("there is no block 'inner' in the file" in p for p in found), found


def test_blocks_that_contain_each_other_are_named() -> None:
    data = grouped_data()
    inner = next(b for b in data["blocks"] if b["name"] == "inner")
    inner["nodes"].append(
        {"id": "loop", "type": "block", "block": "outer", "position": [0, 0], "params": {}}
    )
    found = problems(data)
    assert any("blocks contain each other: " in p and "outer" in p for p in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(blocks={}), "blocks: expected a list, got an object"),
        (lambda d: d["blocks"].append(3), "blocks[2]: expected an object, got the number 3"),
        (lambda d: d["blocks"][0].update(name="no good"), "blocks[0].name: expected an ident"),
        (lambda d: d["blocks"][1].update(name="inner"), "blocks[1].name: a second block"),
        (lambda d: d["blocks"][0].update(extra=1), "blocks[0].'extra': unknown key"),
        (lambda d: d["blocks"][0]["nodes"][0].update(type="Dense"), "blocks[0].nodes[0].type"),
        (lambda d: d["blocks"][0].update(exposed=[1]), "blocks[0].exposed[0]: expected"),
        (
            lambda d: d["blocks"][0]["exposed"][0].update(param="size"),
            "blocks[0].exposed: Linear 'dense1' has no parameter 'size'",
        ),
        (lambda d: d["nodes"][1].update(block=7), "nodes[1].block: expected the name of a block"),
        (lambda d: d["nodes"][0].update(block="inner"), "nodes[0].block: only block nodes"),
        (
            lambda d: d["nodes"].append({"id": "p", "type": "block_input"}),
            "block inputs and outputs go inside a block",
        ),
    ],
)
def test_malformed_blocks_get_one_located_line(change: Any, expected: str) -> None:
    data = copy.deepcopy(grouped_data())
    change(data)
    found = problems(data)
    assert any(expected in p for p in found), found


def nested_chain(depth: int) -> dict[str, Any]:
    blocks = []
    for i in range(depth):
        nodes: list[dict[str, Any]] = [
            {"id": "x", "type": "block_input", "position": [0, 0]},
            {"id": "y", "type": "block_output", "position": [0, 0]},
        ]
        if i:
            nodes.append({"id": "b", "type": "block", "block": f"b{i - 1}", "params": {}})
        blocks.append({"name": f"b{i}", "nodes": nodes, "edges": [], "exposed": []})
    return {"format": "nodegrad", "version": 2, "nodes": [], "edges": [], "blocks": blocks}


def test_blocks_nest_up_to_the_limit() -> None:
    doc = io.loads(json.dumps(nested_chain(MAX_DEPTH)))
    assert len(doc.blocks) == MAX_DEPTH
    assert io.loads(io.dumps(doc)).to_dict() == doc.to_dict()


def test_a_long_chain_of_nested_blocks_is_refused_without_recursion() -> None:
    found = problems(nested_chain(5000))
    assert any(f"nested more than {MAX_DEPTH} deep" in p for p in found), found[:3]
