"""The ``nodegrad`` command: the editor by default, ``validate``, ``train`` and ``export`` headless.

Usage::

    nodegrad [FILE]                          open the editor (on the bundled example by default)
    nodegrad validate FILE                   list the graph's problems
    nodegrad train FILE [--epochs N] [--device cpu|gpu] [--threads N] [--save-weights PATH]
    nodegrad export FILE --to python|torch|onnx [-o OUT] [--no-train]
    nodegrad import MODEL.onnx [-o GRAPH.nodegrad]
    nodegrad eval FILE | sample FILE --prompt T --length N | runs FILE   (see app/cli_results.py)

Every failure ends in one clear message on stderr and a non-zero exit status, never a traceback
(set ``NODEGRAD_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app import __version__, cli_results
from app.cli_onnx import add_import_parser, cmd_import
from app.cli_paths import check_output, check_weights_fit
from app.cli_types import whole_number

if TYPE_CHECKING:
    from app.graph.document import GraphDocument
    from app.graph.metrics import EpochMetrics, StepMetrics
    from app.graph.validate import Diagnostic

COMMANDS = ("validate", "train", "export", "import", *cli_results.COMMANDS)
DEFAULT_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_mlp.nodegrad"


class CliError(Exception):
    """A problem the user can fix; its message is printed as it is."""


def _command_parser() -> argparse.ArgumentParser:
    """The parser of the headless subcommands."""
    parser = argparse.ArgumentParser(
        prog="nodegrad", description="Visual neural-network editor and trainer."
    )
    parser.add_argument("--version", "-V", action="version", version=f"nodegrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = sub.add_parser("validate", help="check a graph and list its problems")
    validate.add_argument("file", type=Path, help="a .nodegrad file")
    train = sub.add_parser("train", help="train a graph with its saved settings")
    train.add_argument("file", type=Path, help="a .nodegrad file")
    train.add_argument("--epochs", type=whole_number(1), help="override the number of epochs")
    train.add_argument("--device", choices=("cpu", "gpu"), help="override the device")
    train.add_argument(
        "--threads",
        type=whole_number(1),
        metavar="N",
        help="CPU threads for the matrix products (default: every core); 1 leaves the other "
        "cores free and is as fast for small models",
    )
    train.add_argument("--save-weights", type=Path, metavar="PATH", help="default: beside FILE")
    train.add_argument("--no-save", action="store_true", help="do not save the trained weights")
    export = sub.add_parser("export", help="write the graph as a runnable script or ONNX model")
    export.add_argument("file", type=Path, help="a .nodegrad file")
    export.add_argument("--to", required=True, choices=("python", "torch", "onnx"), dest="target")
    export.add_argument(
        "-o", "--output", type=Path, metavar="OUT", help="default: stdout (onnx: FILE.onnx)"
    )
    export.add_argument("--no-train", action="store_true", help="inference only: no training loop")
    add_import_parser(sub)
    cli_results.add_parsers(sub)
    return parser


def _editor_parser() -> argparse.ArgumentParser:
    """The parser of ``nodegrad [FILE]``."""
    parser = argparse.ArgumentParser(
        prog="nodegrad",
        description="Visual neural-network editor. Commands: "
        + ", ".join(COMMANDS)
        + " (see 'nodegrad COMMAND --help').",
    )
    parser.add_argument("--version", "-V", action="version", version=f"nodegrad {__version__}")
    parser.add_argument("file", nargs="?", type=Path, help="a .nodegrad file to open")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if args and args[0] in COMMANDS:
            options = _command_parser().parse_args(args)
            _require_file(options.file)
            handler = {"validate": cmd_validate, "train": cmd_train, "export": cmd_export}
            handler |= {"eval": cli_results.cmd_eval, "sample": cli_results.cmd_sample}
            handler["runs"] = cli_results.cmd_runs
            handler["import"] = cmd_import
            return handler[options.command](options)
        options = _editor_parser().parse_args(args)
        return cmd_editor(options.file)
    except SystemExit as exit_:  # argparse: --help, --version, usage errors
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    except KeyboardInterrupt:
        print("nodegrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``nodegrad eval ... | head``): stop quietly
        _silence_stdout()
        return 141
    except Exception as error:
        if os.environ.get("NODEGRAD_DEBUG"):
            raise
        print(f"nodegrad: error: {describe_error(error)}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail again."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def describe_error(error: BaseException) -> str:
    """One line (or an indented list of problems) telling the user what went wrong."""
    if isinstance(error, FileNotFoundError):
        return f"{error.filename}: no such file"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    if isinstance(error, (CliError, ValueError, LookupError)) or _is_project_error(error):
        message = str(error)
        problems = [str(p) for p in getattr(error, "problems", None) or ()]
        return message + "".join(f"\n  {p}" for p in problems if p not in message)
    return f"internal error ({type(error).__name__}): {error} (NODEGRAD_DEBUG=1 shows details)"


def _is_project_error(error: BaseException) -> bool:
    """True for the typed errors of the graph model and the engine."""
    module = type(error).__module__ or ""
    return module.startswith(("app.", "engine"))


def _require_file(path: Path) -> None:
    """Refuse a path that is not an existing file, before importing anything heavy."""
    if not path.exists():
        raise CliError(f"{path}: no such file")
    if not path.is_file():
        raise CliError(f"{path}: not a file")


def _load(path: Path) -> GraphDocument:
    """Read a document, with a clear error when the file is missing."""
    from app.graph import io

    _require_file(path)
    return io.load(path)


def cmd_validate(options: argparse.Namespace) -> int:
    """``nodegrad validate FILE``: print every diagnostic; exit 1 when there are errors."""
    from app.graph.validate import validate

    document = _load(options.file)
    result = validate(document)
    for diagnostic in result.diagnostics:
        print(format_diagnostic(diagnostic), file=sys.stderr)
    errors, warnings = len(result.errors), len(result.warnings)
    summary = f"{len(document.nodes)} nodes, {len(document.edges)} edges"
    if errors:
        print(f"{options.file}: {errors} error(s), {warnings} warning(s) ({summary})")
        return 1
    print(f"{options.file}: ok, {warnings} warning(s) ({summary})")
    return 0


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """``error: node 'fc1' port x: message``."""
    where = ""
    if diagnostic.node_id is not None:
        where = f"node '{diagnostic.node_id}'"
        if diagnostic.port is not None:
            where += f" port {diagnostic.port}"
        where += ": "
    return f"{diagnostic.severity.name.lower()}: {where}{diagnostic.message}"


def cmd_train(options: argparse.Namespace) -> int:
    """``nodegrad train FILE``: train with the saved settings and print the final metrics."""
    document = _load(options.file)
    if options.save_weights is not None:
        check_output(options.save_weights, options.file, option="--save-weights")
    if options.device is not None:
        _check_device(options.device)
        document.set_setting("device", options.device)
    if options.epochs is not None:  # the run's record keeps what it was trained with
        document.set_setting("epochs", options.epochs)
    with cpu_threads(options.threads):
        return _train(options, document)


def _train(options: argparse.Namespace, document: GraphDocument) -> int:
    """Train ``document`` as ``nodegrad train`` does, print the metrics and record the run."""
    from app.graph.metrics import EpochMetrics, StepMetrics, TrainingFinished
    from app.graph.runs import RunRecorder
    from app.graph.session import Session

    session = Session(document)
    recorder = RunRecorder(document, source="cli")
    epochs = options.epochs or document.training.epochs
    progress = ProgressBar(sys.stderr, epochs)
    last_step: StepMetrics | None = None
    last_epoch: EpochMetrics | None = None
    finished: TrainingFinished | None = None
    _prepare_kernels()
    for event in session.train(epochs=epochs):
        recorder.observe(event)
        if isinstance(event, StepMetrics):
            last_step = event
            progress.step(event)
        elif isinstance(event, EpochMetrics):
            last_epoch = event
            progress.epoch(event)
        else:
            finished = event
    progress.close()
    if finished is not None and finished.reason == "nan":
        cli_results.record_run(options.file, recorder, sys.stderr)
        raise CliError(finished.message or f"training diverged at node '{finished.node_id}'")
    _print_summary(last_epoch, last_step)
    cli_results.after_training(options, document, session, recorder)
    return 0


def _prepare_kernels() -> None:
    """Load or compile the engine's kernels before the first step, saying so on stderr when
    this process has not yet (compiling takes seconds the first time on a machine)."""
    from app.graph.kernels import needs_preparing, prepare_kernels

    if needs_preparing():
        print("preparing compiled kernels…", file=sys.stderr, flush=True)
        error = prepare_kernels()
        if error:
            raise CliError(error)


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """Run the block on at most ``threads`` CPU threads; None leaves the settings as they are.

    The engine's own threads (``engine.set_num_threads``, which hold BLAS to one thread while
    they split the products) are lowered to ``threads`` when there are more; BLAS and OpenMP
    get ``threads`` unless the engine splits, in which case they stay at one. Everything is
    put back afterwards.

    Raises
    ------
    CliError
        If ``threads`` is more than the cores this process may use.
    """
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    import engine
    from engine.ops.parallel import usable_cores

    cores = usable_cores()
    if threads > cores:
        raise CliError(f"--threads {threads}: this process may use {cores} core(s)")

    before = engine.get_num_threads()
    engine.set_num_threads(min(threads, before))
    try:
        with threadpool_limits(limits=1 if engine.get_num_threads() > 1 else threads):
            yield
    finally:
        engine.set_num_threads(before)


def _check_device(device: str) -> None:
    """Refuse ``--device gpu`` with the engine's reason when no GPU is usable."""
    if device != "gpu":
        return
    from engine import backend

    reason = backend.gpu_unavailable_reason()
    if reason:
        raise CliError(f"--device gpu: {reason}")


def _print_summary(epoch: EpochMetrics | None, step: StepMetrics | None) -> None:
    """The closing lines of ``nodegrad train``."""
    if epoch is None:
        loss = "n/a" if step is None else f"{step.loss:.4f}"
        print(f"training loss: {loss}")
        return
    print(f"training loss: {epoch.train_loss:.4f}")
    print(f"validation loss: {'n/a' if epoch.val_loss is None else f'{epoch.val_loss:.4f}'}")
    accuracy = "n/a" if epoch.val_accuracy is None else f"{100 * epoch.val_accuracy:.2f}%"
    print(f"validation accuracy: {accuracy}")


class ProgressBar:
    """A one-line progress bar on a terminal; one line per epoch elsewhere (logs, pipes)."""

    WIDTH = 30

    def __init__(self, stream: TextIO, epochs: int) -> None:
        self.stream = stream
        self.epochs = epochs
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.every = 1 if self.interactive else max(1, epochs // 20)  # about 20 lines in logs
        self._last_draw = 0.0

    def step(self, metrics: StepMetrics) -> None:
        """Redraw the bar (at most 10 times a second)."""
        now = time.monotonic()
        if not self.interactive or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        done = (metrics.epoch + (metrics.step + 1) / max(metrics.steps_per_epoch, 1)) / self.epochs
        filled = int(self.WIDTH * min(done, 1.0))
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\repoch {metrics.epoch + 1}/{self.epochs} [{bar}] loss {metrics.loss:.4f}"
            f" ({metrics.samples_per_s:,.0f} samples/s)  "
        )
        self.stream.flush()

    def epoch(self, metrics: EpochMetrics) -> None:
        """Print the epoch's summary line (every ``self.every`` epochs, and the last)."""
        if (metrics.epoch + 1) % self.every and metrics.epoch + 1 != self.epochs:
            return
        parts = [f"epoch {metrics.epoch + 1}/{self.epochs}", f"loss {metrics.train_loss:.4f}"]
        if metrics.val_loss is not None:
            parts.append(f"val_loss {metrics.val_loss:.4f}")
        if metrics.val_accuracy is not None:
            parts.append(f"val_acc {100 * metrics.val_accuracy:.2f}%")
        parts.append(f"{metrics.elapsed:.1f}s")
        prefix = "\r" + " " * (self.WIDTH + 60) + "\r" if self.interactive else ""
        self.stream.write(prefix + "  ".join(parts) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Leave the terminal on a clean line."""
        self.stream.flush()


def cmd_export(options: argparse.Namespace) -> int:
    """``nodegrad export FILE --to python|torch|onnx [-o OUT] [--no-train]`` (the graph's trained
    weights are written beside OUT)."""
    if options.output is not None:
        check_output(options.output, options.file)
    if options.target == "onnx":
        from app.cli_onnx import cmd_export_onnx

        return cmd_export_onnx(options)
    from app.graph import io
    from app.graph.export.command import export_command
    from app.graph.onnx import compile_for_inference

    document = _load(options.file)
    weights_file = io.find_weights(options.file)
    if weights_file is not None:  # (an Input-fed graph, say an ONNX import, has no loss)
        program = compile_for_inference(document)
        check_weights_fit(program, io.load_weights(weights_file), weights_file, options.file)
    train = not options.no_train
    return export_command(document, options.file, options.target, options.output, train)


def cmd_editor(path: Path | None) -> int:
    """Open the editor on ``path`` (the bundled default example when None)."""
    if path is not None:
        _require_file(path)
    target = path if path is not None else (DEFAULT_EXAMPLE if DEFAULT_EXAMPLE.exists() else None)
    try:
        from app.ui.main_window import MainWindow
    except ImportError as error:
        raise CliError(
            f"the editor is not available ({error}); the headless commands still work: "
            + ", ".join(COMMANDS)
        ) from None
    _require_display()
    return run_editor(MainWindow, target)


def _require_display() -> None:
    """On Linux, refuse to start Qt without a display (it would abort the process)."""
    if not sys.platform.startswith("linux"):
        return
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return
    raise CliError(
        "no display to open the editor on (DISPLAY and WAYLAND_DISPLAY are unset); the headless "
        "commands still work: " + ", ".join(COMMANDS)
    )


def run_editor(window_class: Callable[..., Any], path: Path | None) -> int:
    """Start Qt, show ``window_class(path=path)`` and run the event loop to its end."""
    from PySide6.QtWidgets import QApplication

    application = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "nodegrad"])
    application.setApplicationName("nodegrad")
    window = window_class(path=path)
    window.show()
    return int(application.exec())


if __name__ == "__main__":
    sys.exit(main())
