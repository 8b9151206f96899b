"""The document holder: one current document whose signals every panel follows directly."""

from __future__ import annotations

from pathlib import Path

from conftest import DIGITS

from app.graph import io
from app.graph.document import GraphDocument
from app.graph.validate import validate
from app.ui.document_holder import DocumentHolder


def test_open_document_replaces_then_validates_then_retitles(qapp) -> None:
    holder = DocumentHolder()
    heard: list[str] = []
    holder.replaced.connect(lambda: heard.append(f"replaced {len(holder.document.nodes)}"))
    holder.validated.connect(lambda r: heard.append(f"validated ok={r.ok}"))
    holder.file_changed.connect(lambda: heard.append(f"file {holder.display_name()}"))
    document = io.load(DIGITS)
    holder.open_document(document, None, example="digits_mlp")
    assert heard == ["replaced 6", "validated ok=True", "file digits_mlp (example)"]
    assert holder.document is document and holder.validation.ok and not holder.is_modified()
    holder.open_document(GraphDocument(), Path("/tmp/x.nodegrad"), modified=True)
    assert holder.display_name() == "x.nodegrad" and holder.is_modified()
    holder.detach()


def test_the_holder_is_the_only_listener_of_the_document(window) -> None:
    document = io.load(DIGITS)
    window.replace_document(document, None)
    assert document._listeners == [window.holder._on_event]  # panels follow the holder
    heard = []
    window.holder.changed.connect(heard.append)
    window.editor.set_param("dense1", "units", 32)
    assert [e.kind.name for e in heard] == ["NODE_CHANGED"]


def test_parameter_counts_come_from_the_validation_result(digits) -> None:
    result = validate(digits.document)
    assert result.param_counts["dense1"] == 64 * 128 + 128  # 64 features in, 128 units
    assert digits.scene.node_item("dense1").param_count == result.param_counts["dense1"]
    total = sum(result.param_counts.values())
    assert f"{total:,} parameters" in digits.status_summary.text()
