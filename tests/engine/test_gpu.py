"""Every layer, loss and optimizer computes on the GPU what it computes on the CPU.

Each case builds a model twice from one seed, moves one copy to the GPU, runs the same forward
and backward pass (float64) on both and compares the outputs, the input gradient and every
parameter gradient. The whole module skips, with the reason, where CuPy has no usable GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engine
from engine import (
    LSTM,
    RNN,
    SGD,
    Adam,
    AdamW,
    BatchNorm1d,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    LeakyRelu,
    Linear,
    LSTMCell,
    MaxPool2d,
    MSELoss,
    Relu,
    RNNCell,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Tensor,
    backend,
    data,
)

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def _gpu_float64() -> None:
    reason = backend.gpu_unavailable_reason()
    if reason is not None:
        pytest.skip(f"GPU tests skipped: {reason}")
    engine.set_default_dtype(np.float64)  # conftest restores the default afterwards


def twin(make: Callable[[], Any]) -> tuple[Any, Any]:
    """The same freshly seeded model twice: one on the CPU, one moved to the GPU."""
    np.random.seed(7)
    cpu = make()
    np.random.seed(7)
    return cpu, make().to("gpu")


def close(gpu_value: Any, cpu_value: Any, what: str) -> None:
    """Assert a GPU array equals its CPU counterpart to float64 rounding."""
    assert backend.device_of(gpu_value) == "gpu", f"{what} left the GPU"
    np.testing.assert_allclose(
        backend.to_numpy(gpu_value), cpu_value, rtol=1e-9, atol=1e-11, err_msg=what
    )


def run_pass(model: Any, x: np.ndarray, upstream: np.ndarray, device: str) -> tuple[Any, Any]:
    """Forward ``x`` (floats get autograd) put on ``device``, backward ``upstream``; return the
    output and x.grad."""
    floating = x.dtype.kind == "f"
    xt = Tensor(x, autograd=floating).to(device) if floating else backend.to_device(x, device)
    out = model(xt)
    out.backward(Tensor(upstream).to(out.device))
    return out.data, (xt.grad.data if floating else None)


LAYERS: dict[str, tuple[Callable[[], Any], tuple[int, ...]]] = {
    "linear": (lambda: Linear(5, 3), (4, 5)),
    "mlp": (lambda: Sequential([Linear(5, 6), Relu(), Linear(6, 3), Tanh()]), (4, 5)),
    "sigmoid": (Sigmoid, (4, 5)),
    "leaky_relu": (lambda: LeakyRelu(0.1), (4, 5)),
    "softmax": (Softmax, (4, 5)),
    "flatten": (Flatten, (2, 3, 4)),
    "conv": (lambda: Conv2d(2, 3, 3, padding=1), (2, 2, 6, 6)),
    "conv_stride": (lambda: Conv2d(2, 4, 3, stride=2), (2, 2, 7, 7)),
    "maxpool": (lambda: MaxPool2d(2), (2, 3, 6, 6)),
    "batchnorm": (lambda: BatchNorm1d(5), (8, 5)),
    "layernorm": (lambda: LayerNorm(5), (4, 5)),
    "rnn": (lambda: RNN(4, 5), (3, 6, 4)),
    "lstm": (lambda: LSTM(4, 5), (3, 6, 4)),
    "gru": (lambda: engine.GRU(4, 5), (3, 6, 4)),
    "cnn": (
        lambda: Sequential([Conv2d(1, 4, 3, padding=1), Relu(), MaxPool2d(2), Flatten()]),
        (3, 1, 8, 8),
    ),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_cpu(name: str) -> None:
    make, shape = LAYERS[name]
    cpu, gpu = twin(make)
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    upstream = rng.normal(size=cpu(Tensor(x)).shape)
    out_cpu, dx_cpu = run_pass(cpu, x, upstream, "cpu")
    out_gpu, dx_gpu = run_pass(gpu, x, upstream, "gpu")
    close(out_gpu, out_cpu, f"{name} output")
    close(dx_gpu, dx_cpu, f"{name} input gradient")
    for (pname, p_cpu), (_, p_gpu) in zip(
        cpu.named_parameters(), gpu.named_parameters(), strict=True
    ):
        close(p_gpu.grad.data, p_cpu.grad.data, f"{name}.{pname} gradient")


@pytest.mark.parametrize("ids_device", ["cpu", "gpu"])
def test_embedding_matches_cpu_with_repeated_ids(ids_device: str) -> None:
    cpu, gpu = twin(lambda: Embedding(10, 4))
    ids = np.array([[1, 3, 3, 9], [0, 1, 1, 1]])
    upstream = np.random.default_rng(1).normal(size=(2, 4, 4))
    out_cpu, _ = run_pass(cpu, ids, upstream, "cpu")
    out_gpu, _ = run_pass(gpu, ids, upstream, ids_device)
    close(out_gpu, out_cpu, "embedding output")
    close(gpu.weight.grad.data, cpu.weight.grad.data, "embedding gradient")


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_book_cells_match_cpu_over_three_steps(cell: str) -> None:
    def make() -> Any:
        return RNNCell(3, 4, 2, activation="tanh") if cell == "rnn" else LSTMCell(3, 4, 2)

    rng = np.random.default_rng(2)
    xs = rng.normal(size=(3, 2, 3))
    results = {}
    for device, model in zip(("cpu", "gpu"), twin(make), strict=True):
        hidden = model.init_hidden(2)
        total = None
        for x in xs:
            out, hidden = model.forward(Tensor(x).to(device), hidden)
            total = out if total is None else total + out
        total.sum().backward()
        results[device] = (total.data, [p.grad.data for p in model.get_parameters()])
    close(results["gpu"][0], results["cpu"][0], f"{cell} cell output")
    for k, (g_gpu, g_cpu) in enumerate(zip(results["gpu"][1], results["cpu"][1], strict=True)):
        close(g_gpu, g_cpu, f"{cell} cell parameter {k} gradient")


LOSSES: dict[str, tuple[Any, tuple[int, ...], Callable[[np.random.Generator], np.ndarray]]] = {
    "mse_sum": (MSELoss(), (4, 3), lambda r: r.normal(size=(4, 3))),
    "mse_mean": (MSELoss("mean"), (4, 3), lambda r: r.normal(size=(4, 3))),
    "cross_entropy": (CrossEntropyLoss(), (6, 5), lambda r: r.integers(0, 5, 6)),
    "cross_entropy_seq": (CrossEntropyLoss(), (2, 3, 5), lambda r: r.integers(0, 5, (2, 3))),
    "bce_logits": (BCEWithLogitsLoss(), (4, 3), lambda r: r.integers(0, 2, (4, 3)) * 1.0),
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("target_on_gpu", [False, True])
def test_loss_matches_cpu(name: str, target_on_gpu: bool) -> None:
    criterion, shape, make_target = LOSSES[name]
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=shape) * 3, make_target(rng)
    values = {}
    for device in ("cpu", "gpu"):
        p = Tensor(pred, autograd=True).to(device)
        t = backend.to_device(target, device) if target_on_gpu else target
        loss = criterion(p, t)
        loss.backward()
        values[device] = (loss.data, p.grad.data)
    close(values["gpu"][0], values["cpu"][0], f"{name} value")
    close(values["gpu"][1], values["cpu"][1], f"{name} gradient")


@pytest.mark.parametrize(
    "make_optim",
    [
        lambda ps: SGD(ps, alpha=0.1),
        lambda ps: SGD(ps, alpha=0.1, momentum=0.9),
        lambda ps: Adam(ps, alpha=0.01),
        lambda ps: SGD(ps, alpha=0.1, weight_decay=0.1),
        lambda ps: SGD(ps, alpha=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: Adam(ps, alpha=0.01, weight_decay=0.1),
        lambda ps: AdamW(ps, alpha=0.01, weight_decay=0.1),
    ],
    ids=["sgd", "sgd_momentum", "adam", "sgd_wd", "momentum_wd", "adam_wd", "adamw"],
)
def test_optimizer_steps_match_cpu(make_optim: Callable[[list[Tensor]], Any]) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    models = twin(lambda: Sequential([Linear(5, 6), Tanh(), Linear(6, 3)]))
    optims = [make_optim(m.get_parameters()) for m in models]
    for _ in range(3):
        for device, model, optim in zip(("cpu", "gpu"), models, optims, strict=True):
            CrossEntropyLoss()(model(Tensor(x).to(device)), y).backward()
            optim.step()
    for (name, p_cpu), (_, p_gpu) in zip(
        models[0].named_parameters(), models[1].named_parameters(), strict=True
    ):
        close(p_gpu.data, p_cpu.data, f"{name} after three steps")
        assert not backend.to_numpy(p_gpu.grad.data).any(), "step() left a gradient unzeroed"
    state = optims[1].state_dict()
    restored = make_optim(models[1].get_parameters())
    restored.load_state_dict(state)
    for k, slots in optims[1].state.items():
        for key, value in slots.items():
            close(restored.state[k][key], backend.to_numpy(value), f"restored state {k}.{key}")


def test_state_dict_from_gpu_loads_on_cpu() -> None:
    cpu, gpu = twin(lambda: Sequential([Linear(3, 4), BatchNorm1d(4)]))
    for p in gpu.get_parameters():
        p.data += 0.5  # the two copies differ until the state is loaded
    gpu(Tensor(np.random.default_rng(5).normal(size=(6, 3))).to("gpu"))  # moves running stats
    state = gpu.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert np.any(state["1.running_mean"] != 0) and np.any(state["1.running_var"] != 1)
    cpu.load_state_dict(state)
    for (name, p_cpu), (_, p_gpu) in zip(
        cpu.named_parameters(), gpu.named_parameters(), strict=True
    ):
        close(p_gpu.data, p_cpu.data, name)
    for name in ("running_mean", "running_var"):
        close(getattr(gpu[1], name), getattr(cpu[1], name), name)


def test_dropout_on_gpu_masks_output_and_gradient_alike() -> None:
    layer = Dropout(0.5).to("gpu")
    x = Tensor(np.ones((200, 50)), autograd=True).to("gpu")
    out = layer(x)
    out.backward(Tensor(np.ones((200, 50))).to("gpu"))
    kept = backend.to_numpy(out.data) != 0
    assert 0.45 < kept.mean() < 0.55
    np.testing.assert_array_equal(backend.to_numpy(x.grad.data) != 0, kept)
    layer.eval()
    close(layer(x).data, np.ones((200, 50)), "dropout in eval mode")


def test_digits_mlp_trains_on_gpu() -> None:
    """A real model reaches a real accuracy on the GPU (float32, as users train)."""
    engine.set_default_dtype(np.float32)
    np.random.seed(0)
    train_set, val_set = data.split(data.digits(), val_fraction=0.2, seed=0)
    model = Sequential([Linear(64, 128), Relu(), Linear(128, 10)]).to("gpu")
    optim, criterion = SGD(model.get_parameters(), alpha=0.1, momentum=0.9), CrossEntropyLoss()
    for _ in range(10):
        for x, y in data.DataLoader(train_set, batch_size=32, shuffle=True, seed=0):
            criterion(model(Tensor(x).to("gpu")), backend.to_device(y, "gpu")).backward()
            optim.step()
    logits = model(Tensor(val_set.x).to("gpu")).data
    assert backend.device_of(logits) == "gpu"
    assert (backend.to_numpy(logits).argmax(1) == val_set.y).mean() >= 0.95


@pytest.mark.parametrize(
    ("name", "printed"),
    [("digits_mlp", "validation accuracy"), ("digits_cnn", "validation accuracy"),
     ("char_lstm", "sample:\nThe ")],
)  # fmt: skip
def test_examples_run_on_the_gpu(name: str, printed: str, capsys: pytest.CaptureFixture) -> None:
    from tests.engine.test_examples import load

    engine.set_default_dtype(np.float32)
    load(name).main(["--epochs", "1", "--device", "gpu"])
    assert printed in capsys.readouterr().out


def test_lstm_in_float16_on_the_gpu() -> None:
    """The fused LSTM kernel is built for float32 and float64; float16 runs it on float32
    copies."""
    engine.set_default_dtype(np.float16)
    cpu, gpu = twin(lambda: LSTM(4, 5))
    x = np.random.default_rng(6).normal(size=(3, 6, 4))
    out_cpu, dx_cpu = run_pass(cpu, x, np.ones((3, 6, 5)), "cpu")
    out_gpu, dx_gpu = run_pass(gpu, x, np.ones((3, 6, 5)), "gpu")
    assert out_gpu.dtype == np.float16
    np.testing.assert_allclose(backend.to_numpy(out_gpu), out_cpu, atol=1e-2)
    np.testing.assert_allclose(backend.to_numpy(dx_gpu), dx_cpu, atol=2e-2)


def test_float16_parameters_train_with_adam_on_the_gpu() -> None:
    """The fused optimizer kernels cover float32 and float64; float16 uses array operations."""
    engine.set_default_dtype(np.float16)
    x, y = np.random.default_rng(7).normal(size=(16, 4)), np.arange(16) % 2
    model = Sequential([Linear(4, 8), Tanh(), Linear(8, 2)]).to("gpu")
    optim, losses = Adam(model.get_parameters(), alpha=0.01), []
    for _ in range(30):
        loss = CrossEntropyLoss()(model(Tensor(x).to("gpu")), y)
        loss.backward()
        optim.step()
        losses.append(float(backend.to_numpy(loss.data)))
    assert model.get_parameters()[0].data.dtype == np.float16
    assert losses[-1] < losses[0]


def test_fused_kernels_match_the_cpu_in_float32() -> None:
    """Users train in float32: the fused LSTM cell and optimizer kernels against the CPU."""
    engine.set_default_dtype(np.float32)
    rng = np.random.default_rng(8)
    x, upstream = rng.normal(size=(4, 7, 8)), rng.normal(size=(4, 7, 16))
    models = twin(lambda: LSTM(8, 16))
    results = [run_pass(m, x, upstream, d) for m, d in zip(models, ("cpu", "gpu"), strict=True)]
    for what, k in (("output", 0), ("input gradient", 1)):
        np.testing.assert_allclose(
            backend.to_numpy(results[1][k]), results[0][k], rtol=1e-4, atol=1e-5, err_msg=what
        )
    devices = ("cpu", "gpu")
    for make in (lambda ps: SGD(ps, alpha=0.1, momentum=0.9), lambda ps: Adam(ps, alpha=0.01)):
        for model, device in zip(models, devices, strict=True):
            run_pass(model, x, upstream, device)
            make(model.get_parameters()).step()
        pairs = zip(models[0].get_parameters(), models[1].get_parameters(), strict=True)
        for p_cpu, p_gpu in pairs:
            np.testing.assert_allclose(
                backend.to_numpy(p_gpu.data), p_cpu.data, rtol=1e-4, atol=1e-5
            )


def test_a_gradient_of_another_dtype_steps_as_on_the_cpu() -> None:
    """The fused kernels need one dtype; a float64 gradient on a float32 parameter (set by
    hand) takes the array operations, on the GPU as on the CPU."""
    engine.set_default_dtype(np.float32)
    results = {}
    for device in ("cpu", "gpu"):
        w = Tensor(np.array([1.0, -2.0, 0.5], dtype=np.float32), autograd=True).to(device)
        w.grad = Tensor(backend.to_device(np.array([0.5, 1e-3, -3.0]), device))
        w.grad.data = w.grad.data.astype(np.float64)
        Adam([w], alpha=0.01).step()
        results[device] = backend.to_numpy(w.data)
    assert results["gpu"].dtype == np.float32
    np.testing.assert_allclose(results["gpu"], results["cpu"], rtol=1e-6)
