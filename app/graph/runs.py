"""Run history beside a graph: one JSON object per line in ``NAME.runs.jsonl``.

Each record says when a run started, its training settings, a fingerprint of the graph
(structure and parameters, not positions or labels), the device, how long it took, the metrics of
every epoch, the final metrics and how it ended. Plain data only: nothing is executed or
unpickled, and a line that cannot be read is skipped with a note while the others load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.graph.metrics import EpochMetrics, Event, StepMetrics, TrainingFinished

if TYPE_CHECKING:
    from app.graph.document import GraphDocument

__all__ = [
    "RunHistory",
    "RunRecord",
    "RunRecorder",
    "append_run",
    "delete_run",
    "fingerprint",
    "load_runs",
    "next_name",
    "rename_run",
    "runs_path",
]

Number = float | None
EPOCH_KEYS = ("epoch", "train_loss", "val_loss", "val_accuracy", "elapsed")


def runs_path(graph_path: str | os.PathLike[str]) -> Path:
    """The run history beside a ``.nodegrad`` file: ``NAME.runs.jsonl``."""
    return Path(graph_path).with_suffix(".runs.jsonl")


def fingerprint(document: GraphDocument) -> str:
    """A short hash of the graph's nodes (ids, types, parameters) and wires.

    Moving a node or renaming its label leaves it unchanged; any edit that changes what the
    graph computes changes it, inside a block too. Training settings are recorded beside it,
    not in it.
    """
    data = document.to_dict()
    graph = _computed(data)
    if data.get("blocks"):  # what the block nodes run (absent without blocks: same hashes)
        graph["blocks"] = [{**_computed(b), "exposed": b["exposed"]} for b in data["blocks"]]
    text = json.dumps(graph, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _computed(data: dict[str, Any]) -> dict[str, Any]:
    """The nodes (without positions and labels) and wires of one graph's file data."""
    keep = ("id", "type", "params", "block")
    nodes = sorted(
        ({k: n.get(k, {}) for k in keep if k in n or k == "params"} for n in data["nodes"]),
        key=lambda n: str(n["id"]),
    )
    edges = sorted(data["edges"], key=lambda e: json.dumps(e, sort_keys=True))
    return {"nodes": nodes, "edges": edges}


@dataclass(frozen=True)
class RunRecord:
    """One recorded run.

    Attributes
    ----------
    id : str
        Unique and stable (rename keeps it).
    name : str
        What the user calls it (``run 3`` unless renamed).
    started : str
        ISO 8601 time in UTC.
    settings : dict
        The training settings the run used.
    fingerprint : str
        :func:`fingerprint` of the graph when it ran.
    device : str
    duration_s : float
    epochs : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``, ``elapsed``.
    final : dict
        Final metrics (``train_loss``, ``val_loss``, ``val_accuracy``, evaluation metrics...).
    outcome : str
        ``finished``, ``stopped``, ``paused`` or ``nan``.
    source : str
        ``editor`` or ``cli``.
    steps_per_epoch : int
        Optimisation steps in one epoch (0 when unknown): places epochs on a step axis.
    """

    id: str
    name: str
    started: str
    settings: dict[str, Any]
    fingerprint: str
    device: str
    duration_s: float
    epochs: list[dict[str, Number]] = field(default_factory=list)
    final: dict[str, Number] = field(default_factory=dict)
    outcome: str = "finished"
    source: str = "editor"
    steps_per_epoch: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (non-finite numbers become null)."""
        data: dict[str, Any] = _finite(dataclasses.asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Read a record written by :meth:`to_dict`; ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {type(data).__name__}")
        text_keys = ("id", "name", "started", "fingerprint", "device", "outcome", "source")
        for key in text_keys:
            if not isinstance(data.get(key, "" if key in ("outcome", "source") else None), str):
                raise ValueError(f"'{key}' must be text")
        if not isinstance(data.get("settings"), dict):
            raise ValueError("'settings' must be an object")
        duration = data.get("duration_s")
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            raise ValueError("'duration_s' must be a number")
        epochs = data.get("epochs", [])
        if not isinstance(epochs, list) or not all(_numbers(e) for e in epochs):
            raise ValueError("'epochs' must be a list of objects of numbers")
        final = data.get("final", {})
        if not _numbers(final):
            raise ValueError("'final' must be an object of numbers")
        steps = data.get("steps_per_epoch", 0)
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ValueError("'steps_per_epoch' must be a whole number")
        return cls(
            data["id"], data["name"], data["started"], dict(data["settings"]),
            data["fingerprint"], data["device"], float(duration), [dict(e) for e in epochs],
            dict(final), data.get("outcome", "finished"), data.get("source", "editor"), steps,
        )  # fmt: skip

    @property
    def started_local(self) -> str:
        """``started`` as local ``YYYY-MM-DD HH:MM`` (as written when it does not parse)."""
        try:
            return datetime.fromisoformat(self.started).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return self.started


def _numbers(value: Any) -> bool:
    """Whether ``value`` is a dict of numbers (or nulls) keyed by text."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or (isinstance(v, (int, float)) and v is not True))
        for k, v in value.items()
    )


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@dataclass
class RunHistory:
    """The runs read from a history file, oldest first, and a note per line skipped."""

    runs: list[RunRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def find(self, run_id: str) -> RunRecord | None:
        """The run with id ``run_id`` (or a unique name), None when absent."""
        by_id = [r for r in self.runs if r.id == run_id]
        by_name = [r for r in self.runs if r.name == run_id]
        found = by_id or by_name
        return found[0] if len(found) == 1 else None


def load_runs(graph_path: str | os.PathLike[str]) -> RunHistory:
    """Every readable run recorded beside ``graph_path`` (none when there is no file)."""
    path = runs_path(graph_path)
    history = RunHistory()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return history
    except (OSError, UnicodeDecodeError) as error:
        history.notes.append(f"{path}: cannot read the run history ({error})")
        return history
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            history.runs.append(RunRecord.from_dict(json.loads(line)))
        except (ValueError, TypeError, RecursionError) as error:
            history.notes.append(f"{path.name}, line {number}: skipped an unreadable run ({error})")
    return history


def append_run(graph_path: str | os.PathLike[str], record: RunRecord) -> Path:
    """Add ``record`` at the end of the history beside ``graph_path``; returns the file."""
    path = runs_path(graph_path)
    line = json.dumps(record.to_dict(), sort_keys=True, allow_nan=False)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return path


def rename_run(graph_path: str | os.PathLike[str], run_id: str, name: str) -> None:
    """Give the run ``run_id`` a new name (unreadable lines are kept as they are)."""
    name = name.strip()
    if not name:
        raise ValueError("a run's name cannot be empty")
    _rewrite(graph_path, run_id, lambda data: {**data, "name": name})


def delete_run(graph_path: str | os.PathLike[str], run_id: str) -> None:
    """Remove the run ``run_id`` from the history."""
    _rewrite(graph_path, run_id, lambda data: None)


def _rewrite(graph_path: str | os.PathLike[str], run_id: str, change: Any) -> None:
    """Rewrite the history atomically with ``change(data)`` applied to one run's line."""
    path = runs_path(graph_path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LookupError(f"{path}: no run history") from None
    out: list[str] = []
    found = False
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("id") == run_id and not found:
            found = True
            changed = change(data)
            if changed is not None:
                out.append(json.dumps(changed, sort_keys=True, allow_nan=False))
        else:
            out.append(line)
    if not found:
        raise LookupError(f"{path}: no run with id {run_id!r}")
    handle, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write("".join(line + "\n" for line in out))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class RunRecorder:
    """Builds a :class:`RunRecord` from the events of a training run.

    Feed every event to :meth:`observe`; :meth:`record` returns the finished record.
    """

    def __init__(self, document: GraphDocument, source: str = "editor") -> None:
        self.settings = dataclasses.asdict(document.training)
        self.fingerprint = fingerprint(document)
        self.device = str(document.training.device)
        self.source = source
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._clock = time.perf_counter()
        self.epochs: list[dict[str, Number]] = []
        self.last_loss: float | None = None
        self.steps_per_epoch = 0
        self.outcome = "finished"

    def observe(self, event: Event) -> None:
        """Take note of one training event."""
        if isinstance(event, StepMetrics):
            self.last_loss = event.loss
            self.steps_per_epoch = event.steps_per_epoch
        elif isinstance(event, EpochMetrics):
            row = {k: getattr(event, k) for k in EPOCH_KEYS}
            self.epochs.append({k: None if v is None else float(v) for k, v in row.items()})
        elif isinstance(event, TrainingFinished):
            self.outcome = event.reason

    def record(self, name: str, final: dict[str, Number] | None = None) -> RunRecord:
        """The record of the run so far, called ``name``, with extra ``final`` metrics."""
        metrics: dict[str, Number] = {}
        if self.epochs:
            last = self.epochs[-1]
            metrics.update({k: last[k] for k in ("train_loss", "val_loss", "val_accuracy")})
        elif self.last_loss is not None:
            metrics["train_loss"] = self.last_loss
        metrics.update(final or {})
        return RunRecord(
            id=f"{self.started.replace(':', '').replace('+0000', 'Z')}-{secrets.token_hex(3)}",
            name=name, started=self.started, settings=dict(self.settings),
            fingerprint=self.fingerprint, device=self.device,
            duration_s=time.perf_counter() - self._clock, epochs=list(self.epochs),
            final=metrics, outcome=self.outcome, source=self.source,
            steps_per_epoch=self.steps_per_epoch,
        )  # fmt: skip


def next_name(history: RunHistory) -> str:
    """``run N`` for the next run: one more than the runs recorded (skipping names in use)."""
    used = {r.name for r in history.runs}
    number = len(history.runs) + 1
    while f"run {number}" in used:
        number += 1
    return f"run {number}"
