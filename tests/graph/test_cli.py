"""The nodegrad command on real graphs: validate, train, export, and clean failures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app import cli
from app.cli import ProgressBar, main
from app.graph import io
from app.graph.metrics import EpochMetrics, StepMetrics

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
XOR = str(EXAMPLES / "xor.nodegrad")

Capture = pytest.CaptureFixture[str]


def test_validate_a_good_graph(capsys: Capture) -> None:
    assert main(["validate", str(EXAMPLES / "digits_mlp.nodegrad")]) == 0
    assert "ok, 0 warning(s) (6 nodes, 6 edges)" in capsys.readouterr().out


def test_validate_lists_errors_by_node(tmp_path: Path, capsys: Capture) -> None:
    doc = io.load(XOR)
    doc.disconnect("hidden", "y", "tanh", "x")
    path = tmp_path / "broken.nodegrad"
    io.save(doc, path)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "error: node 'tanh'" in captured.err
    assert "1 error(s)" in captured.out or "error(s)" in captured.out


def test_malformed_file_lists_its_problems(tmp_path: Path, capsys: Capture) -> None:
    path = tmp_path / "bad.nodegrad"
    path.write_text(
        '{"format": "nodegrad", "version": 1, "nodes": [{"id": "a", "type": "linear", '
        '"params": {"units": -4}}], "edges": [], "training": {}}',
        encoding="utf-8",
    )
    for command in (["validate"], ["train"], ["export", "--to", "python"]):
        assert main([*command[:1], str(path), *command[1:]]) == 1
        err = capsys.readouterr().err
        assert "nodes[0].params.units: expected a positive int, got -4" in err
        assert "Traceback" not in err


def test_train_prints_progress_and_final_metrics(tmp_path: Path, capsys: Capture) -> None:
    weights = tmp_path / "spiral.safetensors"
    spiral = str(tmp_path / "spiral.nodegrad")  # a copy: the run is recorded beside it
    Path(spiral).write_bytes((EXAMPLES / "spiral.nodegrad").read_bytes())
    assert main(["train", spiral, "--epochs", "3", "--save-weights", str(weights)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("training loss: ")
    assert lines[1].startswith("validation loss: ")
    assert lines[2].startswith("validation accuracy: ") and lines[2].endswith("%")
    assert "epoch 3/3" in captured.err
    saved = io.load_weights(weights)
    assert sorted(saved) == [
        "dense1.bias", "dense1.weight", "dense2.bias", "dense2.weight", "logits.bias",
        "logits.weight",
    ]  # fmt: skip
    assert saved["dense1.weight"].shape == (2, 64)


def test_train_threads_limits_blas_during_the_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from app.graph.session import Session

    seen: list[int] = []
    train = Session.train

    def spy(self: Session, **kwargs: object) -> object:
        seen.extend(pool["num_threads"] for pool in threadpoolctl.threadpool_info())
        return train(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "train", spy)
    before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]
    graph = tmp_path / "xor.nodegrad"
    graph.write_bytes(Path(XOR).read_bytes())  # the run is recorded beside the graph
    assert main(["train", str(graph), "--epochs", "1", "--threads", "1", "--no-save"]) == 0
    assert (tmp_path / "xor.runs.jsonl").is_file()
    assert seen and set(seen) == {1}
    assert [pool["num_threads"] for pool in threadpoolctl.threadpool_info()] == before
    assert "training loss" in capsys.readouterr().out


def test_train_threads_lowers_the_engines_own_threads_and_keeps_blas_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import engine

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores")
    seen: list[tuple[int, list[int]]] = []

    def spy(threads: int) -> None:
        with cli.cpu_threads(threads):
            blas = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
            seen.append((engine.get_num_threads(), blas))

    engine.set_num_threads(2)  # the engine splits products itself, BLAS held to one thread
    try:
        spy(1)
        spy(2)
        assert engine.get_num_threads() == 2
    finally:
        engine.set_num_threads(1)
    assert seen[0][0] == 1 and set(seen[0][1]) == {1}  # one thread in all
    assert seen[1][0] == 2 and set(seen[1][1]) == {1}  # the engine's two, BLAS still one


def test_train_threads_beyond_the_cores_is_refused(capsys: Capture) -> None:
    assert main(["train", XOR, "--epochs", "1", "--threads", "4096", "--no-save"]) == 1
    assert "--threads 4096: this process may use" in capsys.readouterr().err
    assert main(["train", XOR, "--threads", "0"]) == 2
    assert "expected a number >= 1, got 0" in capsys.readouterr().err


def test_train_reports_divergence_with_the_node(tmp_path: Path, capsys: Capture) -> None:
    doc = io.load(XOR)
    doc.set_setting("learning_rate", 9.0)
    path = tmp_path / "diverge.nodegrad"
    io.save(doc, path)
    assert main(["train", str(path)]) == 1
    err = capsys.readouterr().err
    assert "nodegrad: error: " in err and "node '" in err and "non-finite" in err
    from app.graph.runs import load_runs

    assert [r.outcome for r in load_runs(path).runs] == ["nan"]  # a diverged run is recorded


def test_train_on_a_gpu_that_is_missing(capsys: Capture) -> None:
    from engine import backend

    if backend.gpu_unavailable_reason() is None:
        pytest.skip("a GPU is usable here")
    assert main(["train", XOR, "--device", "gpu", "--epochs", "1"]) == 1
    assert capsys.readouterr().err.startswith("nodegrad: error: --device gpu: ")


def test_export_to_stdout_and_to_a_file(tmp_path: Path, capsys: Capture) -> None:
    assert main(["export", XOR, "--to", "python"]) == 0
    code = capsys.readouterr().out
    assert code.startswith('"""A nodegrad graph (its name is ``GRAPH``) exported as a script')
    assert "GRAPH = 'xor'" in code
    assert "class Model(Layer):" in code
    out = tmp_path / "xor_torch.py"
    assert main(["export", XOR, "--to", "torch", "-o", str(out)]) == 0
    assert "class Model(nn.Module):" in out.read_text(encoding="utf-8")
    assert str(out) in capsys.readouterr().err


def test_editor_unavailable_is_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setitem(sys.modules, "app.ui.main_window", None)
    assert main([XOR]) == 1
    err = capsys.readouterr().err
    assert "the editor is not available" in err and "validate, train, export" in err


class FakeTerminal:
    """A stream that says it is a terminal and records what was written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_and_in_logs() -> None:
    terminal = FakeTerminal()
    bar = ProgressBar(terminal, 2)  # type: ignore[arg-type]
    bar.step(StepMetrics(0, 4, 10, 0.25, {}, {}, 1234.0, 0.5))
    assert terminal.text == (
        "\repoch 1/2 [" + "#" * 7 + "." * 23 + "] loss 0.2500 (1,234 samples/s)  "
    )
    terminal.text = ""
    bar.epoch(EpochMetrics(0, 0.5, 0.6, 0.75, 1.0))
    assert terminal.text.startswith("\r") and "val_acc 75.00%" in terminal.text
    log = FakeTerminal()
    log.isatty = lambda: False  # type: ignore[method-assign]
    quiet = ProgressBar(log, 100)  # type: ignore[arg-type]
    for epoch in range(100):
        quiet.epoch(EpochMetrics(epoch, 1.0, None, None, float(epoch)))
    assert log.text.count("\n") == 20
    assert log.text.splitlines()[-1].startswith("epoch 100/100")


@pytest.mark.parametrize("argv", [[], [XOR]])
def test_editor_opens_the_default_example_or_the_file(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main_window = pytest.importorskip("app.ui.main_window")
    opened = []
    monkeypatch.setattr(cli, "run_editor", lambda cls, path: opened.append((cls, path)) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(argv) == 0
    expected = Path(XOR) if argv else EXAMPLES / "digits_mlp.nodegrad"
    assert opened == [(main_window.MainWindow, expected)]


def test_editor_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    pytest.importorskip("app.ui.main_window")
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli, "run_editor", lambda cls, path: pytest.fail("Qt started"))
    assert main([]) == 1
    assert "no display to open the editor on" in capsys.readouterr().err
