"""Run history beside a graph: records, fingerprints, rename/delete, unreadable lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.graph import io
from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished
from app.graph.runs import (
    RunRecord,
    RunRecorder,
    append_run,
    delete_run,
    fingerprint,
    load_runs,
    next_name,
    rename_run,
    runs_path,
)
from app.graph.session import Session

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def record(graph: Path, name: str) -> RunRecord:
    """A run of two epochs of xor, as the editor or the CLI records it."""
    doc = io.load(EXAMPLES / "xor.nodegrad")
    recorder = RunRecorder(doc, source="cli")
    for event in Session(doc).train(epochs=2):
        recorder.observe(event)
    run = recorder.record(name, {"r2": 0.5})
    append_run(graph, run)
    return run


def test_a_run_is_recorded_and_read_back(tmp_path: Path) -> None:
    graph = tmp_path / "g.nodegrad"
    run = record(graph, "first")
    assert runs_path(graph) == tmp_path / "g.runs.jsonl"
    history = load_runs(graph)
    assert history.notes == [] and history.runs == [run]
    loaded = history.runs[0]
    assert loaded.settings["optimizer"] == "sgd" and loaded.device == "cpu"
    assert [e["epoch"] for e in loaded.epochs] == [0, 1] and loaded.outcome == "finished"
    assert loaded.final["train_loss"] == loaded.epochs[-1]["train_loss"]
    assert loaded.final["r2"] == 0.5 and loaded.duration_s > 0 and loaded.source == "cli"
    assert loaded.fingerprint == fingerprint(io.load(EXAMPLES / "xor.nodegrad"))
    line = runs_path(graph).read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(line)["name"] == "first"  # plain JSON, one run a line


def test_the_fingerprint_ignores_positions_and_labels_but_not_params() -> None:
    doc = io.load(EXAMPLES / "xor.nodegrad")
    before = fingerprint(doc)
    doc.move_nodes({"hidden": (500.0, 500.0)})
    doc.set_label("hidden", "renamed")
    assert fingerprint(doc) == before
    doc.set_param("hidden", "units", 8)
    assert fingerprint(doc) != before


def test_rename_and_delete_keep_the_others(tmp_path: Path) -> None:
    graph = tmp_path / "g.nodegrad"
    first, second = record(graph, "run 1"), record(graph, "run 2")
    assert next_name(load_runs(graph)) == "run 3"
    rename_run(graph, first.id, "baseline")
    assert [r.name for r in load_runs(graph).runs] == ["baseline", "run 2"]
    delete_run(graph, first.id)
    assert [r.id for r in load_runs(graph).runs] == [second.id]
    with pytest.raises(LookupError, match="no run with id"):
        delete_run(graph, first.id)
    with pytest.raises(ValueError, match="cannot be empty"):
        rename_run(graph, second.id, "  ")


def test_an_unreadable_record_is_skipped_with_a_note(tmp_path: Path) -> None:
    graph = tmp_path / "g.nodegrad"
    first = record(graph, "run 1")
    with runs_path(graph).open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({**first.to_dict(), "id": "x", "duration_s": "long"}) + "\n")
    second = record(graph, "run 2")
    history = load_runs(graph)
    assert [r.name for r in history.runs] == ["run 1", "run 2"]
    assert len(history.notes) == 2
    assert "g.runs.jsonl, line 2: skipped an unreadable run" in history.notes[0]
    assert "line 3" in history.notes[1] and "'duration_s' must be a number" in history.notes[1]
    rename_run(graph, second.id, "kept")  # the unreadable lines survive a rewrite
    assert len(runs_path(graph).read_text(encoding="utf-8").splitlines()) == 4


def test_the_recorder_keeps_how_a_run_ended(tmp_path: Path) -> None:
    recorder = RunRecorder(io.load(EXAMPLES / "xor.nodegrad"))
    recorder.observe(StepMetrics(0, 0, 1, float("nan")))
    recorder.observe(TrainingFinished("nan", "out", "went non-finite"))
    run = recorder.record("bad")
    assert run.outcome == "nan"
    append_run(tmp_path / "g.nodegrad", run)  # NaN is written as null, still valid JSON
    assert load_runs(tmp_path / "g.nodegrad").runs[0].final == {"train_loss": None}
    recorder = RunRecorder(io.load(EXAMPLES / "xor.nodegrad"))
    recorder.observe(EpochMetrics(0, 1.0, None, None, 0.1))
    assert recorder.record("ok").epochs == [
        {"epoch": 0.0, "train_loss": 1.0, "val_loss": None, "val_accuracy": None, "elapsed": 0.1}
    ]
