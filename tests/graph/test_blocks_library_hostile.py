"""Hostile block files: each gets located problems (FileFormatError), never another error."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from app.graph.blocks import library
from app.graph.blocks.library import SUFFIX, list_library, load_block, read_block_data
from app.graph.errors import FileFormatError

GOOD = library.BUILTIN_FOLDER / f"residual{SUFFIX}"


def good() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOOD.read_text(encoding="utf-8"))
    return data


def edited(change: Any) -> dict[str, Any]:
    data = good()
    change(data)
    return data


def problems_of(data: Any) -> list[str]:
    with pytest.raises(FileFormatError) as info:
        read_block_data(data)
    return info.value.problems


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "(top level): expected an object"),
        (edited(lambda d: d.update(format="nodegrad")), "format: expected 'nodegrad-block'"),
        (edited(lambda d: d.update(version=2)), "version: this nodegrad reads version 1"),
        (edited(lambda d: d.update(version=True)), "version: this nodegrad reads version 1"),
        (edited(lambda d: d.update(extra=1)), "'extra': unknown key"),
        (edited(lambda d: d.update(block=["a"])), "block: expected the name of a block"),
        (edited(lambda d: d.update(block="import os")), "block: expected the name of a block"),
        (edited(lambda d: d.update(block="other")), "block: the file defines no block 'other'"),
        (edited(lambda d: d.update(description="x" * 5000)), "description: expected a text"),
        (edited(lambda d: d.update(description=3)), "description: expected a text"),
        (edited(lambda d: d.pop("blocks")), "blocks: expected a list, got null"),
        (edited(lambda d: d.update(blocks={})), "blocks: expected a list, got an object"),
        (edited(lambda d: d["blocks"].append(7)), "blocks[1]: expected an object"),
        (
            edited(lambda d: d["blocks"][0]["nodes"][1].update(type="os.system")),
            "blocks[0].nodes[1].type: unknown node type 'os.system'",
        ),
        (
            edited(lambda d: d["blocks"][0]["nodes"][1]["params"].update(out_channels=-4)),
            "blocks[0].nodes[1].params.out_channels:",
        ),
        (
            edited(lambda d: d["blocks"][0]["nodes"][1].update(type="block", block="gone")),
            "blocks[0].nodes[1].block: there is no block 'gone'",
        ),
        (
            edited(lambda d: d["blocks"][0]["nodes"][1].update(type="block", block="residual")),
            "blocks[0]: blocks contain each other: residual → residual",
        ),
        (
            edited(lambda d: d["blocks"][0]["exposed"][0].update(node="nowhere")),
            "blocks[0].exposed: Block 'residual' has no node 'nowhere'",
        ),
        (
            edited(lambda d: d["blocks"][0]["edges"][0].update(dst="nowhere")),
            "blocks[0].edges[0].dst",
        ),
        (
            edited(lambda d: d["blocks"][0]["nodes"][0].update(label="\ud800")),
            "(top level): a text is not valid Unicode",
        ),
    ],
)
def test_each_problem_is_located(data: Any, problem: str) -> None:
    found = problems_of(data)
    assert any(p.startswith(problem) for p in found), found
    assert all("\n" not in p for p in found)


def test_blocks_that_contain_each_other_are_named() -> None:
    def loop(d: dict[str, Any]) -> None:
        twin = json.loads(json.dumps(d["blocks"][0]))
        twin["name"] = "twin"
        twin["nodes"][1] = {"id": "conv1", "type": "block", "block": "residual", "params": {}}
        d["blocks"][0]["nodes"][1] = {"id": "conv1", "type": "block", "block": "twin"}
        d["blocks"].append(twin)

    found = problems_of(edited(loop))
    assert any("blocks contain each other" in p for p in found), found


def write(folder: Path, name: str, raw: bytes) -> Path:
    path = folder / f"{name}{SUFFIX}"
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", "byte 0: not UTF-8 text"),
        (b"{", "line 1 column 2: not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "(top level): the JSON is nested too deeply"),
        (b'{"version": ' + b"9" * 5000 + b"}", "(top level): not a nodegrad number"),
        (b'{"version": NaN}', "(top level): not a nodegrad number"),
    ],
)
def test_unreadable_text_is_refused(tmp_path: Path, raw: bytes, problem: str) -> None:
    with pytest.raises(FileFormatError) as info:
        load_block(write(tmp_path, "bad", raw))
    assert info.value.problems[0].startswith(problem), info.value.problems


def test_a_huge_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "MAX_BLOCK_BYTES", 1000)
    path = write(tmp_path, "huge", GOOD.read_bytes())
    with pytest.raises(FileFormatError) as info:
        load_block(path)
    assert info.value.problems == ["(top level): larger than 0 MiB, not a block file"] or (
        "larger than" in info.value.problems[0]
    )


def test_a_folder_named_like_a_block_file_is_listed_with_its_error(tmp_path: Path) -> None:
    (tmp_path / f"folder{SUFFIX}").mkdir()
    entries = list_library(tmp_path)
    assert [e.name for e in entries] == ["folder"]
    assert entries[0].error.startswith("cannot read the file")


def mutate(value: Any, rng: random.Random) -> Any:
    """``value`` with one random element replaced by something of another kind."""
    junk = [None, -1, 10**30, 1.5, "", "x" * 50, [], {}, True, "block", "\u202e", [1, [2]]]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        return {**value, key: mutate(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return [*value[:i], mutate(value[i], rng), *value[i + 1 :]]
    return rng.choice(junk)


def test_random_damage_gives_located_problems_or_a_block() -> None:
    """Fuzz: 400 files with one random part replaced load or fail with located problems."""
    rng = random.Random(15)
    base = good()
    failed = 0
    for _ in range(400):
        data = mutate(base, rng)
        try:
            source = read_block_data(data)
        except FileFormatError as err:
            failed += 1
            assert err.problems and all(p and "\n" not in p for p in err.problems)
            continue
        assert source.name in source.blocks
    assert failed > 200
