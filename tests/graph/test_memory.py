"""Memory estimate: parameters and activations at the batch size; refusing what cannot fit."""

from __future__ import annotations

import pytest

from app.graph import memory
from app.graph import validate as validate_module
from app.graph.document import GraphDocument
from app.graph.memory import MemoryEstimate, format_bytes, total_memory
from app.graph.validate import Severity, validate


def mlp(batch_size: int = 10) -> GraphDocument:
    doc = GraphDocument()
    doc.add_node("dataset", {"name": "xor"}, node_id="data")
    doc.add_node("linear", {"units": 8}, node_id="fc")
    doc.add_node("mse_loss", {}, node_id="loss")
    doc.connect("data", "x", "fc", "x")
    doc.connect("fc", "y", "loss", "pred")
    doc.set_param("fc", "units", 1)
    doc.connect("data", "y", "loss", "target")
    doc.set_setting("batch_size", batch_size)
    return doc


def test_the_estimate_counts_parameters_and_outputs_at_the_batch_size() -> None:
    result = validate(mlp(batch_size=10))
    assert result.ok, result.diagnostics
    # xor: x (N, 2), y (N, 1); Linear 2 -> 1: 3 parameters; loss: a scalar.
    assert result.memory == MemoryEstimate(
        parameter_bytes=3 * 4,
        activation_bytes=(10 * 2 + 10 * 1 + 10 * 1 + 1) * 4,
        total_bytes=(4 * 3 + 2 * 41) * 4,
        largest_node="data",
    )


def test_a_constant_that_cannot_fit_is_refused_naming_the_node_and_the_figure() -> None:
    doc = mlp()
    doc.add_node("constant", {"shape": "1000000,1000000"}, node_id="huge")
    result = validate(doc)
    assert not result.ok
    assert result.memory is not None and result.memory.largest_node == "huge"
    found = [d for d in result.errors if d.node_id == "huge"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    assert "8.0 TB" in found[0].message and "Constant 'huge'" in found[0].message
    assert "4.0 TB" in found[0].message


def test_the_limit_is_the_machines_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "total_memory", lambda: 100)
    result = validate(mlp())
    assert [d.node_id for d in result.errors] == ["data"]
    assert "more than this machine's 100 bytes" in result.errors[0].message
    monkeypatch.setattr(validate_module, "total_memory", lambda: None)
    assert validate(mlp()).ok


def test_total_memory_reads_the_machine() -> None:
    total = total_memory()
    assert total is None or total > 2**26
    assert memory.total_memory is total_memory


@pytest.mark.parametrize(
    ("count", "text"),
    [(12, "12 bytes"), (1500, "1.5 KB"), (999_960, "1.0 MB"), (7_900_000_000, "7.9 GB")],
)
def test_format_bytes(count: int, text: str) -> None:
    assert format_bytes(count) == text
