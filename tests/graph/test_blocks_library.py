"""Block files and the library: saving, listing, loading, inserting, and the built-in blocks."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.blocks import mutations as bm
from app.graph.blocks.library import (
    BUILTIN_FOLDER,
    SUFFIX,
    BlockSource,
    block_file_data,
    document_source,
    insert_block,
    list_library,
    load_block,
    save_block,
)
from app.graph.document import GraphDocument
from app.graph.metrics import EpochMetrics, TrainingFinished
from app.graph.session import Session
from app.graph.validate import validate

ROOT = Path(__file__).resolve().parents[2]


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_blocks", ROOT / "scripts/build_blocks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chain(doc: GraphDocument, ids: list[tuple[str, str, dict[str, Any]]]) -> None:
    for i, (node_id, type_id, params) in enumerate(ids):
        doc.add_node(type_id, params, position=(i * 200.0, 0.0), node_id=node_id)
        if i:
            doc.connect(ids[i - 1][0], "y" if ids[i - 1][1] != "dataset" else "x", node_id, "x")


def nested_doc() -> GraphDocument:
    """A graph whose block ``outer`` holds a block ``inner`` (linear -> relu)."""
    doc = GraphDocument()
    chain(
        doc,
        [
            ("data", "dataset", {"name": "iris"}),
            ("fc", "linear", {"units": 8}),
            ("act", "relu", {}),
            ("head", "linear", {"units": 3}),
        ],
    )
    doc.add_node("cross_entropy_loss", node_id="loss")
    doc.connect("head", "y", "loss", "logits")
    doc.connect("data", "y", "loss", "target")
    doc.apply(grouping.group(doc, ["fc", "act"], name="inner"))
    doc.apply(grouping.group(doc, ["inner_1", "head"], name="outer"))
    doc.apply(grouping.expose(doc, "inner", "fc", "units"))
    return doc


def test_save_then_load_gives_the_same_blocks(tmp_path: Path) -> None:
    doc = nested_doc()
    path = save_block(doc, "outer", tmp_path / "lib", "two layers")
    assert path == tmp_path / "lib" / f"outer{SUFFIX}"
    source = load_block(path)
    assert source.name == "outer" and source.description == "two layers"
    assert sorted(source.blocks) == ["inner", "outer"]
    again = GraphDocument()
    again.apply(insert_block(again, source, (0.0, 0.0)))
    assert block_file_data(again, "outer", "two layers") == json.loads(path.read_text())


def test_insert_is_one_step_that_undo_takes_back_whole(tmp_path: Path) -> None:
    source = load_block(save_block(nested_doc(), "outer", tmp_path))
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "iris"}, node_id="data")
    before = doc.to_dict()
    undo = doc.apply(insert_block(doc, source, (40.0, 60.0)))
    assert list(doc.nodes) == ["data", "outer_1"] and doc.nodes["outer_1"].position == (40, 60)
    assert set(doc.blocks) == {"inner", "outer"}
    redo = doc.apply(undo)
    assert doc.to_dict() == before and not doc.blocks
    doc.apply(redo)
    assert set(doc.blocks) == {"inner", "outer"}


def test_a_taken_name_is_renamed_an_identical_definition_reused(tmp_path: Path) -> None:
    source = load_block(save_block(nested_doc(), "outer", tmp_path))
    doc = GraphDocument()
    doc.apply(insert_block(doc, source, (0.0, 0.0)))
    doc.apply(insert_block(doc, source, (0.0, 200.0)))
    assert set(doc.blocks) == {"inner", "outer"}  # the same definitions, used twice
    assert doc.nodes["outer_2"].block is doc.blocks["outer"]
    # change "inner" in the document: the file's inner is now another block, outer follows
    doc.apply(bm.EditBlock("inner", mu.SetLabel("act", "x")))
    doc.apply(insert_block(doc, source, (0.0, 400.0)))
    assert set(doc.blocks) == {"inner", "outer", "inner_2", "outer_2"}
    inner_node = next(n for n in doc.blocks["outer_2"].body.nodes.values() if n.block)
    assert inner_node.block is doc.blocks["inner_2"]
    assert GraphDocument.from_dict(doc.to_dict()).to_dict() == doc.to_dict()


def test_insert_inside_a_block_edits_that_block(tmp_path: Path) -> None:
    doc = nested_doc()
    source = load_block(save_block(nested_doc(), "inner", tmp_path))
    mutation = insert_block(doc, source, (0.0, 300.0), scope="outer")
    doc.apply(mutation)
    assert "inner_2" in doc.blocks["outer"].body.nodes
    assert doc.blocks["outer"].body.nodes["inner_2"].block is doc.blocks["inner"]


def test_a_block_of_the_document_is_inserted_as_it_is() -> None:
    doc = nested_doc()
    undo = doc.apply(insert_block(doc, document_source(doc, "inner"), (0.0, 0.0)))
    assert doc.nodes["inner_1"].block is doc.blocks["inner"] and len(doc.blocks) == 2
    doc.apply(undo)
    assert "inner_1" not in doc.nodes


def test_list_library_lists_good_and_bad_files(tmp_path: Path) -> None:
    assert list_library(tmp_path / "missing") == []
    save_block(nested_doc(), "outer", tmp_path)
    (tmp_path / f"broken{SUFFIX}").write_text("{not json")
    (tmp_path / f"empty{SUFFIX}").write_text('{"format": "nodegrad-block", "version": 1}')
    (tmp_path / "other.txt").write_text("ignored")
    entries = list_library(tmp_path)
    assert [e.name for e in entries] == ["broken", "empty", "outer"]
    assert entries[0].source is None and "line 1 column 2: not valid JSON" in entries[0].error
    assert entries[1].error.startswith("block: expected the name of a block")
    assert entries[2].source is not None and entries[2].error == ""


# -- the built-in blocks -----------------------------------------------------------------------
BUILTINS = ["mlp_head", "residual", "transformer"]


def test_builtin_files_match_their_builder() -> None:
    module = builder()
    assert sorted(module.BUILTIN) == BUILTINS
    for name in BUILTINS:
        text = (BUILTIN_FOLDER / f"{name}{SUFFIX}").read_text(encoding="utf-8")
        assert text == module.text_of(name), "run python scripts/build_blocks.py"
    assert [e.name for e in list_library(BUILTIN_FOLDER)] == BUILTINS
    assert all(e.error == "" for e in list_library(BUILTIN_FOLDER))


def around(name: str, head: list[tuple[str, str, dict[str, Any]]], params: dict[str, Any]) -> Any:
    """A graph: data and ``head`` nodes, then the built-in block, a classifier and its loss."""
    doc = GraphDocument()
    chain(doc, head)
    source = load_block(BUILTIN_FOLDER / f"{name}{SUFFIX}")
    doc.apply(insert_block(doc, source, (600.0, 0.0)))
    node_id = f"{name}_1"
    for key, value in params.items():
        doc.set_param(node_id, key, value)
    doc.connect(head[-1][0], "y" if len(head) > 1 else "x", node_id, "x")
    return doc, node_id


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_block_validates_and_trains(name: str) -> None:
    if name == "residual":
        doc, block = around(
            name,
            [
                ("data", "dataset", {"name": "digits", "images": True}),
                ("stem", "conv2d", {"out_channels": 8, "padding": 1}),
            ],
            {"channels": 8, "width": 8, "repeat": 2},
        )
        tail = [("pool", "global_avg_pool2d", {}), ("logits", "linear", {"units": 10})]
    elif name == "transformer":
        doc, block = around(
            name,
            [
                ("data", "dataset", {"name": "text", "seq_len": 8}),
                ("embed", "embedding", {"vocab_size": 49, "dim": 16}),
            ],
            {"d_model": 16, "heads": 2, "width": 32, "causal": True},
        )
        tail = [("logits", "linear", {"units": 49})]
    else:
        doc, block = around(name, [("data", "dataset", {"name": "iris"})], {"classes": 3})
        tail = []
    last = block
    for node_id, type_id, params in tail:
        doc.add_node(type_id, params, node_id=node_id)
        doc.connect(last, "y", node_id, "x")
        last = node_id
    doc.add_node("cross_entropy_loss", node_id="loss")
    doc.connect(last, "y", "loss", "logits")
    doc.connect("data", "y", "loss", "target")
    doc.set_setting("batch_size", 256)
    assert validate(doc).diagnostics == []
    events = list(Session(doc).train(epochs=1))
    assert isinstance(events[-1], TrainingFinished) and events[-1].reason == "finished"
    metrics = [e for e in events if isinstance(e, EpochMetrics)]
    assert metrics and math.isfinite(metrics[-1].train_loss)


def test_block_source_names_its_definition() -> None:
    source = load_block(BUILTIN_FOLDER / f"residual{SUFFIX}")
    assert isinstance(source, BlockSource) and source.definition.name == "residual"
    assert [e.name for e in source.definition.exposed] == ["channels", "width"]
