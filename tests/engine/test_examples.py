"""The example scripts: quick smoke runs of their command lines, and the accuracy claims of their
docstrings checked at full size (BLAS limited to one thread, steadier on a shared machine)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.mark.parametrize(
    ("name", "args", "printed"),
    [
        ("xor", ["--steps", "5"], "[1, 1] ->"),
        ("digits_mlp", ["--epochs", "1"], "validation accuracy"),
        ("digits_cnn", ["--epochs", "1"], "validation accuracy"),
        ("char_lstm", ["--epochs", "1"], "sample:\nThe "),
    ],
)
def test_smoke_command_line(name, args, printed, capsys):
    load(name).main(args)
    assert printed in capsys.readouterr().out


def test_xor_learns():
    result = load("xor").train()
    assert result["losses"][-1] < 0.01
    np.testing.assert_array_equal(result["predictions"].round(), [0, 1, 1, 0])


def test_digits_mlp_reaches_95_percent():
    assert load("digits_mlp").train()["val_accuracy"] >= 0.95


def test_digits_cnn_reaches_97_percent():
    assert load("digits_cnn").train()["val_accuracy"] >= 0.97


def test_char_lstm_loss_falls_well_below_uniform():
    result = load("char_lstm").train()
    losses, uniform = result["losses"], result["uniform_loss"]
    assert math.isclose(losses[0], uniform, rel_tol=1e-5)  # w_ho starts at zero: uniform guess
    assert np.mean(losses[-10:]) < 0.4 * uniform
    assert result["sample"].startswith("The ") and len(result["sample"]) == 204


def test_bench_train_prints_a_row_per_workload(capsys):
    spec = importlib.util.spec_from_file_location(
        "bench_train", EXAMPLES.parent / "benchmarks" / "bench_train.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--steps", "1", "--blocks", "1"])
    out = capsys.readouterr().out
    for name in ("mlp_small", "mlp_large", "lstm_char", "conv_digits", "lstm_cell_book"):
        assert f"| {name} |" in out


def test_device_gpu_without_a_gpu_is_refused_with_the_reason(capsys):
    from engine import backend

    if backend.gpu_unavailable_reason() is None:
        pytest.skip("a GPU is usable here (tests/engine/test_gpu.py trains the examples on it)")
    with pytest.raises(SystemExit) as exit_info:
        load("digits_mlp").main(["--epochs", "1", "--device", "gpu"])
    assert exit_info.value.code == 2
    assert "device 'gpu' is unavailable" in capsys.readouterr().err
