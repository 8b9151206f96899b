"""Guidance in validation: warnings for common mistakes, and errors that name the easy fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.graph import io
from app.graph.document import Edge, GraphDocument
from app.graph.errors import FileFormatError
from app.graph.fileformat import read_parts
from app.graph.validate import Severity, validate
from tests.graph.test_validate import chain, classifier, messages


def test_a_softmax_feeding_cross_entropy_is_a_warning() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 3}), ("softmax", {}))
    result = validate(doc)
    assert result.ok
    found = result.for_node("cross_entropy_loss_1")
    assert [d.severity for d in found] == [Severity.WARNING]
    assert "applies Softmax itself" in found[0].message and found[0].port == "logits"
    assert validate(classifier({"name": "spiral"}, ("linear", {"units": 3}))).diagnostics == []


def test_logits_wider_than_the_class_count_are_a_warning() -> None:
    doc = classifier({"name": "spiral"}, ("linear", {"units": 10}))
    result = validate(doc)
    assert result.ok
    assert [d.severity for d in result.for_node("cross_entropy_loss_1")] == [Severity.WARNING]
    assert "set the units of linear_1 to 3" in messages(result, "cross_entropy_loss_1")[0]


def test_a_conv2d_on_flat_images_names_the_images_option_first() -> None:
    doc = classifier({"name": "digits"}, ("conv2d", {}), ("flatten", {}), ("linear", {"units": 10}))
    message = messages(validate(doc), "conv2d_1")[0]
    assert message.startswith("Turn on the 'Images' option of Dataset 'dataset_1'"), message
    assert message.index("Images") < message.index("Reshape")
    doc.set_param("dataset_1", "images", True)
    assert validate(doc).ok


def test_a_missing_relative_data_file_names_the_folder_it_was_looked_up_in(
    tmp_path: Path,
) -> None:
    doc = GraphDocument()
    chain(doc, ("dataset", {"name": "csv", "path": "data/points.csv"}))
    doc.base_dir = tmp_path
    found = messages(validate(doc), "dataset_1")
    assert any(
        "'data/points.csv' is relative: it was looked up in " + repr(str(tmp_path)) in m
        for m in found
    ), found


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("path", ["/dev/zero", "."])
def test_a_data_path_that_is_not_a_regular_file_is_refused_unread(path: str) -> None:
    doc = GraphDocument()
    chain(doc, ("dataset", {"name": "csv", "path": path}))
    found = messages(validate(doc), "dataset_1")
    assert any("not a regular file" in m for m in found), found


def test_wires_are_checked_by_one_rule() -> None:
    """Loading, editing and validation all refuse a dataset's targets into a layer."""
    doc = GraphDocument()
    ids = chain(doc, ("dataset", {"name": "iris"}), ("linear", {"units": 3}))
    data = doc.to_dict()
    data["edges"][0]["src_port"] = "y"
    with pytest.raises(FileFormatError, match=r"edges\[0\]: Dataset 'dataset_1'.y carries"):
        io.document_from_data(data)
    assert "carries the targets" in (doc.check_connect(ids[0], "y", ids[1], "x") or "")
    parts = read_parts({**data, "edges": []})
    forced = GraphDocument.from_parts(parts.nodes, [Edge(ids[0], "y", ids[1], "x")], parts.training)
    assert any("carries the targets" in m for m in messages(validate(forced), ids[1]))


def test_severities_are_compared_as_enums_in_the_graph_package() -> None:
    root = Path(__file__).resolve().parents[2] / "app" / "graph"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for bad in ('severity == "', "severity.name ==", "severity.value =="):
            assert bad not in text, f"{path.name}: compares a severity as a string"
