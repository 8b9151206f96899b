"""PyTorch state dicts both ways: every layer with a counterpart gives that module's keys, order
and shapes; loaded either way, the two compute the same outputs (float32, 1e-5 relative)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import engine
from engine import EngineError, Tensor

torch = pytest.importorskip("torch")
nn = torch.nn

RNG = np.random.default_rng(7)
F, H, O, B, T = 4, 5, 3, 6, 7


class CellModel(nn.Module):  # type: ignore[misc]
    """The counterpart of the book's cells: ``cell`` and its ``output`` read-out, unrolled."""

    def __init__(self, cell: Any, output: Any) -> None:
        super().__init__()
        self.cell, self.output = cell, output

    def forward(self, x: Any) -> Any:
        state = None
        outputs = []
        for step in x.unbind(1):
            state = self.cell(step, state)
            h = state[0] if isinstance(state, tuple) else state
            outputs.append(self.output(h))
        return torch.stack(outputs, 1)


def unroll(cell: Any, x: Tensor) -> Tensor:
    """Run one of the book's cells over (B, T, F), stacking the outputs."""
    hidden = cell.init_hidden(x.shape[0])
    outputs = []
    for t in range(x.shape[1]):
        out, hidden = cell.forward(x[:, t], hidden)
        outputs.append(out)
    return engine.stack(outputs, dim=1)


@dataclass
class Case:
    """A layer, its PyTorch counterpart and an input both accept."""

    name: str
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    input: Callable[[], np.ndarray]
    run: Callable[[Any, Tensor], Tensor] = lambda layer, x: layer(x)
    run_torch: Callable[[Any, Any], Any] = lambda module, x: module(x)


def floats(*shape: int) -> Callable[[], np.ndarray]:
    return lambda: RNG.standard_normal(shape).astype(np.float32)


CASES = [
    Case("linear", lambda: engine.Linear(F, O), lambda: nn.Linear(F, O), floats(B, F)),
    Case(
        "linear_no_bias",
        lambda: engine.Linear(F, O, bias=False),
        lambda: nn.Linear(F, O, bias=False),
        floats(B, F),
    ),
    Case(
        "embedding",
        lambda: engine.Embedding(10, F),
        lambda: nn.Embedding(10, F),
        lambda: RNG.integers(0, 10, (B, T)),
    ),
    Case(
        "conv2d",
        lambda: engine.Conv2d(2, 3, 3, stride=2, padding=1),
        lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1),
        floats(B, 2, 7, 7),
    ),
    Case("batch_norm", lambda: engine.BatchNorm1d(F), lambda: nn.BatchNorm1d(F), floats(B, F)),
    Case("layer_norm", lambda: engine.LayerNorm(F), lambda: nn.LayerNorm(F), floats(B, T, F)),
    Case(
        "rnn_tanh",
        lambda: engine.RNN(F, H),
        lambda: nn.RNN(F, H, batch_first=True),
        floats(B, T, F),
        run_torch=lambda m, x: m(x)[0],
    ),
    Case(
        "rnn_relu",
        lambda: engine.RNN(F, H, activation="relu"),
        lambda: nn.RNN(F, H, nonlinearity="relu", batch_first=True),
        floats(B, T, F),
        run_torch=lambda m, x: m(x)[0],
    ),
    Case(
        "lstm",
        lambda: engine.LSTM(F, H),
        lambda: nn.LSTM(F, H, batch_first=True),
        floats(B, T, F),
        run_torch=lambda m, x: m(x)[0],
    ),
    Case(
        "rnn_cell",
        lambda: engine.RNNCell(F, H, O, activation="tanh"),
        lambda: CellModel(nn.RNNCell(F, H), nn.Linear(H, O)),
        floats(B, T, F),
        run=unroll,
    ),
    Case(
        "lstm_cell",
        lambda: engine.LSTMCell(F, H, O),
        lambda: CellModel(nn.LSTMCell(F, H), nn.Linear(H, O, bias=False)),
        floats(B, T, F),
        run=unroll,
    ),
    Case(
        "sequential",
        lambda: engine.Sequential(
            [
                engine.Conv2d(1, 2, 3),
                engine.Relu(),
                engine.MaxPool2d(2),
                engine.Flatten(),
                engine.Linear(8, 6),
                engine.BatchNorm1d(6),
                engine.Tanh(),
                engine.Dropout(0.5),
                engine.Linear(6, 3),
            ]
        ),
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8, 6),
            nn.BatchNorm1d(6),
            nn.Tanh(),
            nn.Dropout(0.5),
            nn.Linear(6, 3),
        ),
        floats(B, 1, 6, 6),
    ),
]


def outputs(case: Case, ours: Any, theirs: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both models' outputs on ``x`` in evaluation mode."""
    ours.eval()
    theirs.eval()
    with engine.no_grad(), torch.no_grad():
        mine = case.run(ours, Tensor(x)).numpy()
        ref = case.run_torch(theirs, torch.from_numpy(x)).numpy()
    return mine, ref


def perturb(module: Any) -> None:
    """Make PyTorch's zero or one initial values (biases, norms, statistics) informative."""
    with torch.no_grad():
        for value in module.state_dict().values():
            if value.is_floating_point():
                value.add_(torch.from_numpy(RNG.uniform(0.1, 0.5, tuple(value.shape)).astype("f")))


def train_a_little(layer: Any) -> None:
    """Move the engine layer's values (and batch statistics) off their initial values."""
    for p in layer.parameters():
        p.data += RNG.uniform(0.1, 0.5, p.shape).astype(p.dtype)
    for _, sub in layer.named_layers():
        if isinstance(sub, engine.BatchNorm1d):
            for _ in range(3):
                sub(Tensor(RNG.standard_normal((B, sub.n)).astype(np.float32) * 2 + 1))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_keys_order_and_shapes_are_pytorchs(case: Case) -> None:
    ours, theirs = case.ours().torch_state_dict(), case.theirs().state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert isinstance(ours[key], np.ndarray)
        assert ours[key].shape == tuple(value.shape), key


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine_weights_in_pytorch_give_the_same_outputs(case: Case) -> None:
    ours, theirs = case.ours(), case.theirs()
    train_a_little(ours)
    state = ours.torch_state_dict()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    mine, ref = outputs(case, ours, theirs, case.input())
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    again = case.ours()
    again.load_torch_state_dict(theirs.state_dict())
    for key, value in again.torch_state_dict().items():
        np.testing.assert_allclose(value, state[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pytorch_weights_in_the_engine_give_the_same_outputs(case: Case) -> None:
    theirs = case.theirs()
    perturb(theirs)
    ours = case.ours()
    ours.load_torch_state_dict(theirs.state_dict())  # torch tensors
    x = case.input()
    mine, ref = outputs(case, ours, theirs, x)
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    back = {k: torch.from_numpy(v) for k, v in ours.torch_state_dict().items()}
    fresh = case.theirs()
    fresh.load_state_dict(back, strict=True)
    _, ref_again = outputs(case, ours, fresh, x)
    np.testing.assert_allclose(ref_again, mine, rtol=1e-5, atol=1e-6)


def test_batch_norm_carries_running_statistics_and_batch_count() -> None:
    theirs = nn.BatchNorm1d(F)
    for _ in range(4):
        theirs(torch.randn(B, F) * 3 + 2)
    ours = engine.BatchNorm1d(F)
    ours.load_torch_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert ours.num_batches_tracked == 4
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-6)
    x = RNG.standard_normal((B, F)).astype(np.float32)
    ours(Tensor(x))
    theirs(torch.from_numpy(x))
    state = ours.torch_state_dict()
    assert state["num_batches_tracked"].dtype == np.int64 and int(state["num_batches_tracked"]) == 5
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(state[key], theirs.state_dict()[key].numpy(), rtol=1e-5)


def test_lstm_gate_order_is_converted() -> None:
    """PyTorch's input-gate rows are the engine's second block (f, i, o, g)."""
    lstm = engine.LSTM(F, H)
    state = lstm.torch_state_dict()
    np.testing.assert_array_equal(state["weight_ih_l0"][:H], lstm.weight_ih.numpy()[:, H : 2 * H].T)
    np.testing.assert_array_equal(state["bias_ih_l0"][2 * H : 3 * H], lstm.bias.numpy()[3 * H :])


def test_sigmoid_rnn_maps_to_the_exported_loop() -> None:
    rnn = engine.RNN(F, H, activation="sigmoid")
    assert list(rnn.torch_state_dict()) == ["input.weight", "input.bias", "hidden.weight"]
    other = engine.RNN(F, H, activation="sigmoid")
    other.load_torch_state_dict(rnn.torch_state_dict())
    x = Tensor(RNG.standard_normal((B, T, F)).astype(np.float32))
    np.testing.assert_array_equal(other(x).numpy(), rnn(x).numpy())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("bias"), "missing key 'bias'"),
        (lambda s: s.update(extra=np.zeros(1)), "unexpected key 'extra'"),
        (lambda s: s.update(weight=np.zeros((F, O))), "'weight' has shape (4, 3), expected (3, 4)"),
        (lambda s: s.update(bias="abc"), "'bias'"),
        (lambda s: s.update(bias=np.array(["a", "b", "c"])), "'bias' holds <U1 values"),
    ],
)
def test_bad_state_names_the_key(change: Callable[[dict[str, Any]], Any], message: str) -> None:
    layer = engine.Linear(F, O)
    before = layer.state_dict()
    state: dict[str, Any] = dict(layer.torch_state_dict())
    change(state)
    with pytest.raises(EngineError, match=re.escape(message)):
        layer.load_torch_state_dict(state)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_sequential_errors_name_the_full_key() -> None:
    model = engine.Sequential([engine.Linear(F, H), engine.Relu(), engine.Linear(H, O)])
    state = dict(model.torch_state_dict())
    state["2.weight"] = np.zeros((H, O))
    with pytest.raises(EngineError, match=re.escape("'2.weight'")):
        model.load_torch_state_dict(state)
    del state["2.weight"]
    with pytest.raises(EngineError, match=re.escape("missing key '2.weight'")):
        model.load_torch_state_dict(state)


@pytest.mark.parametrize(
    "layer",
    [engine.MSELoss(), engine.RNNCell(F, H, O), engine.Sequential([engine.CrossEntropyLoss()])],
    ids=["loss", "sigmoid_cell", "sequential_of_loss"],
)
def test_layers_without_a_counterpart_say_so(layer: Any) -> None:
    with pytest.raises(EngineError, match="no PyTorch counterpart"):
        layer.torch_state_dict()
    with pytest.raises(EngineError, match="no PyTorch counterpart"):
        layer.load_torch_state_dict({})


def test_numpy_input_never_imports_torch() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any import of torch now fails
        import engine
        model = engine.Sequential([engine.Linear(3, 4), engine.Relu(), engine.LSTM(4, 2)])
        model.load_torch_state_dict(model.torch_state_dict())
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_state_dicts_on_every_device(device: str) -> None:
    """On a GPU the arrays come back as NumPy, and loading writes into the device's arrays."""
    model = engine.Sequential([engine.Linear(F, H), engine.BatchNorm1d(H), engine.LSTM(H, O)])
    before = model.torch_state_dict()
    model.to(device)
    state = model.torch_state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    changed = {  # bias_hh stays zero: loading adds it to the engine's one bias
        k: v + 1 if v.dtype.kind == "f" and "bias_hh" not in k else v for k, v in state.items()
    }
    model.load_torch_state_dict(changed)
    assert model[0].weight.device == device
    for key, value in model.torch_state_dict().items():
        np.testing.assert_allclose(value, changed[key], rtol=1e-6, err_msg=key)
        assert value.shape == before[key].shape
