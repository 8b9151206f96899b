"""``nodegrad eval``, ``sample`` and ``runs``, and what ``nodegrad train`` keeps of a run.

Usage::

    nodegrad eval FILE [--weights PATH] [--split val|train] [--json]
    nodegrad sample FILE --prompt TEXT --length N [--temperature T] [--seed S] [--weights PATH]
    nodegrad runs FILE

``app.cli`` registers these parsers and calls the handlers; errors are raised as exceptions that
``app.cli.main`` prints as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli_paths import check_weights_fit
from app.cli_types import positive_float, whole_number

if TYPE_CHECKING:
    from app.graph.compile import Program
    from app.graph.document import GraphDocument
    from app.graph.evaluation import Evaluation
    from app.graph.runs import RunRecorder
    from app.graph.session import Session

COMMANDS = ("eval", "sample", "runs")
MISTAKES_SHOWN = 10


class NoWeightsError(Exception):
    """The graph has no trained weights to evaluate or sample from."""


def add_parsers(sub: Any) -> None:
    """Add the ``eval``, ``sample`` and ``runs`` subcommands to ``sub`` (argparse subparsers)."""
    evaluate = sub.add_parser("eval", help="score trained weights on the validation split")
    evaluate.add_argument("file", type=Path, help="a .nodegrad file")
    evaluate.add_argument("--weights", type=Path, metavar="PATH", help="default: beside FILE")
    evaluate.add_argument("--split", choices=("val", "train"), default="val")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    sample = sub.add_parser("sample", help="generate text with a trained language model")
    sample.add_argument("file", type=Path, help="a .nodegrad file trained on a text dataset")
    sample.add_argument("--prompt", required=True, help="the text to continue")
    sample.add_argument("--length", required=True, type=whole_number(0), help="characters to add")
    sample.add_argument("--temperature", type=positive_float, default=1.0)
    sample.add_argument("--seed", type=whole_number(0), default=0, help="a whole number >= 0")
    sample.add_argument("--weights", type=Path, metavar="PATH", help="default: beside FILE")
    runs = sub.add_parser("runs", help="list the runs recorded beside a graph")
    runs.add_argument("file", type=Path, help="a .nodegrad file")


def trained_program(file: Path, weights: Path | None) -> tuple[GraphDocument, Program, Path]:
    """The compiled graph with its trained weights loaded, and where they came from.

    Raises :class:`NoWeightsError` when there is no weights file.
    """
    from app.graph import io
    from app.graph.compile import compile_document

    document = io.load(file)
    program = compile_document(document)
    if weights is not None and not weights.is_file():
        raise NoWeightsError(f"--weights {weights}: no such file")
    path = weights if weights is not None else io.find_weights(file)
    if path is None or not path.is_file():
        raise NoWeightsError(
            f"{file}: no trained weights ({path or io.weights_path(file)} not found); train it "
            f"first with 'nodegrad train {file}'"
        )
    saved = io.load_weights(path)
    check_weights_fit(program, saved, path, file)
    program.load_state_dict(saved)
    return document, program, path


def cmd_eval(options: argparse.Namespace) -> int:
    """``nodegrad eval``: the metrics as text (or one JSON object); exit 1 without weights."""
    from app.graph.evaluation import evaluate

    _, program, _ = trained_program(options.file, options.weights)
    result = evaluate(program, options.split)
    if options.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(format_evaluation(result, str(options.file)))
    return 0


def format_evaluation(result: Evaluation, title: str) -> str:
    """The evaluation as readable text: metrics, then the confusion matrix and class table."""
    split = "validation" if result.split == "val" else "training"
    lines = [f"{title}: {result.task} on the {split} split ({result.samples} samples)"]
    if result.note:
        lines.append(f"note: {result.note}")
    lines += [f"  {_METRIC_NAMES.get(k, k):<22}{_metric(k, v)}" for k, v in result.metrics.items()]
    if result.confusion is not None:
        lines += ["", "confusion matrix (rows = true class, columns = predicted):"]
        lines += _table(
            ["true \\ pred", *result.classes],
            [
                [name, *map(str, row)]
                for name, row in zip(result.classes, result.confusion, strict=True)
            ],
        )
        lines += ["", "per class:"]
        lines += _table(
            ["class", "precision", "recall", "F1", "support"],
            [[s.name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)]
             for s in result.per_class],
        )  # fmt: skip
        shown = result.mistakes[:MISTAKES_SHOWN]
        lines += ["", f"most confident mistakes ({len(result.mistakes)} in all):"]
        lines += [
            f"  sample {m.index}: true {result.classes[m.true]}, predicted "
            f"{result.classes[m.predicted]} ({100 * m.confidence:.1f}%)"
            for m in shown
        ] or ["  none"]
    return "\n".join(lines)


_METRIC_NAMES = {
    "loss": "loss",
    "accuracy": "accuracy",
    "macro_f1": "macro F1",
    "mse": "MSE",
    "mae": "MAE",
    "r2": "R²",
    "perplexity": "perplexity",
}


def _metric(name: str, value: float) -> str:
    """A metric as text: accuracy in percent, the others with 4 significant digits."""
    if name == "accuracy":
        return f"{100 * value:.2f}%"
    return f"{value:.4g}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Rows of text in right-aligned columns under ``header`` (first column left-aligned)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def cmd_sample(options: argparse.Namespace) -> int:
    """``nodegrad sample``: print the prompt and the characters the model adds to it."""
    from app.graph import io
    from app.graph.compile import compile_document
    from app.graph.sampling import sample_text, text_dataset

    text_dataset(compile_document(io.load(options.file)))  # a non-text graph: one-line error
    _, program, _ = trained_program(options.file, options.weights)
    text = sample_text(program, options.prompt, options.length, options.temperature, options.seed)
    print(text)
    return 0


def cmd_runs(options: argparse.Namespace) -> int:
    """``nodegrad runs``: the runs recorded beside the graph, oldest first, as a table."""
    from app.graph import io
    from app.graph.runs import fingerprint, load_runs, runs_path

    current = fingerprint(io.load(options.file))
    history = load_runs(options.file)
    for note in history.notes:
        print(f"note: {note}", file=sys.stderr)
    if not history.runs:
        print(f"{options.file}: no runs recorded yet ({runs_path(options.file).name})")
        return 0
    rows = [
        [
            run.name, run.started_local, str(len(run.epochs)), f"{run.duration_s:.1f}s",
            _maybe(run.final.get("train_loss")), _maybe(run.final.get("val_loss")),
            _maybe(run.final.get("val_accuracy"), percent=True), run.outcome, run.device,
            "" if run.fingerprint == current else "edited since",
        ]
        for run in history.runs
    ]  # fmt: skip
    header = ["run", "started", "epochs", "time", "loss", "val loss", "val acc", "end", "device"]
    print("\n".join(_table([*header, "graph"], rows)))
    return 0


def _maybe(value: float | None, percent: bool = False) -> str:
    """A number for the runs table; ``-`` when absent."""
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if percent else f"{value:.4f}"


def after_training(
    options: argparse.Namespace, document: GraphDocument, session: Session, recorder: RunRecorder
) -> None:
    """Save the weights (``--save-weights PATH``, else beside the graph unless ``--no-save``)
    and record the run beside the graph; say where each went."""
    from app.graph import io

    target = options.save_weights
    if target is None and not options.no_save:
        target = io.weights_path(options.file)
    if target is not None:
        io.save_weights(session.weights(), target)
        print(f"weights saved to {target}")
    record_run(options.file, recorder)


def record_run(file: Path, recorder: RunRecorder, stream: TextIO | None = None) -> None:
    """Append the run to the history beside ``file`` and say where (a diverged one too)."""
    from app.graph.runs import append_run, load_runs, next_name

    record = recorder.record(next_name(load_runs(file)))
    try:
        where = append_run(file, record)
    except OSError as error:
        print(f"nodegrad: note: the run was not recorded ({error})", file=sys.stderr)
        return
    print(f"run recorded as '{record.name}' in {where}", file=stream or sys.stdout)
