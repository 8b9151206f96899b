"""Kernel modules load on first use, and a training step runs no import statement.

The steps cover the kernels of Adam, SGD with momentum, cross-entropy, layer norm, GELU, the
softmax layer, the LSTM sequence layer and the GRU.

With PySide6 loaded (the editor), every import statement goes through its Python import hook;
an import inside an op ran on every call and cost the digits MLP 7% of its training time.
"""

from __future__ import annotations

import builtins
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import nn
from engine.tensor import Tensor


def test_a_kernel_module_is_an_attribute_loaded_on_first_use() -> None:
    code = (
        "import sys, engine.kernels as k\n"
        "assert 'engine.kernels.norm' not in sys.modules\n"
        "assert k.norm.__name__ == 'engine.kernels.norm'\n"
        "assert 'engine.kernels.norm' in sys.modules and 'norm' in vars(k)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = engine.kernels.nothing


def _mlp_step() -> Callable[[], None]:
    rng = np.random.default_rng(0)
    model = nn.Sequential([nn.Linear(8, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 4)])
    optimizer = engine.Adam(model.get_parameters(), alpha=0.01)
    loss_fn = engine.CrossEntropyLoss()
    x, y = Tensor(rng.normal(size=(32, 8)).astype(np.float32)), Tensor(rng.integers(0, 4, 32))

    def step() -> None:
        loss_fn(model(x), y).backward()
        optimizer.step()  # and zero the gradients (the book's SGD)

    return step


def _recurrent_step(layer: type[nn.LSTM] | type[nn.GRU]) -> Callable[[], None]:
    rng = np.random.default_rng(1)
    recurrent = layer(6, 8)
    head = nn.Linear(8, 3)
    parameters = [*recurrent.get_parameters(), *head.get_parameters()]
    optimizer = engine.SGD(parameters, alpha=0.1, momentum=0.9)
    x = Tensor(rng.normal(size=(4, 5, 6)).astype(np.float32))

    def step() -> None:
        head(recurrent(x)).sum().backward()
        optimizer.step()

    return step


def _softmax_step() -> Callable[[], None]:
    rng = np.random.default_rng(2)
    model = nn.Sequential([nn.Linear(8, 4), nn.Softmax()])
    optimizer = engine.SGD(model.get_parameters(), alpha=0.1)
    loss_fn = engine.MSELoss()
    x = Tensor(rng.normal(size=(16, 8)).astype(np.float32))
    y = Tensor(np.full((16, 4), 0.25, dtype=np.float32))

    def step() -> None:
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


@pytest.mark.parametrize(
    "make",
    [_mlp_step, _softmax_step, lambda: _recurrent_step(nn.LSTM), lambda: _recurrent_step(nn.GRU)],
    ids=["mlp_layer_norm_gelu_adam", "softmax_mse_sgd", "lstm_sgd", "gru_sgd"],
)  # fmt: skip
def test_a_training_step_runs_no_import_statement(
    make: Callable[[], Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    step = make()
    step()  # the first use loads the kernel modules
    imports: list[str] = []
    real = builtins.__import__

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code
        imports.append(f"{name} in {caller.co_filename}:{caller.co_name}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", counting)
    for _ in range(3):
        step()
    monkeypatch.undo()
    assert imports == []
