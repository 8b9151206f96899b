"""Devices: NumPy/CuPy selection, clear errors for an unusable GPU and for mixed devices."""

from __future__ import annotations

import platform
import sys
import types
from typing import Any

import numpy as np
import pytest

import engine
from engine import DeviceError, Tensor, backend


class FakeGpuArray(np.ndarray):
    """A NumPy array that the backend takes for a CuPy array (no GPU needed)."""


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Install a stand-in ``cupy`` module whose ndarray is :class:`FakeGpuArray`."""
    module = types.ModuleType("cupy")
    module.ndarray = FakeGpuArray  # type: ignore[attr-defined]
    module.asnumpy = lambda a: np.array(a).view(np.ndarray)  # type: ignore[attr-defined]
    module.asarray = lambda a, dtype=None: np.asarray(a, dtype).view(FakeGpuArray)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def gpu_tensor(values: Any, autograd: bool = False) -> Tensor:
    """A tensor whose data the backend sees as living on the GPU."""
    return Tensor(np.asarray(values, dtype=np.float32).view(FakeGpuArray), autograd=autograd)


def test_cpu_is_always_available() -> None:
    assert engine.available_devices()[0] == "cpu"
    assert backend.array_module("cpu") is np
    assert Tensor([1.0]).device == "cpu"


def test_unknown_device_is_refused() -> None:
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        Tensor([1.0]).to("tpu")


def test_gpu_unusable_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    monkeypatch.setattr(backend, "_gpu_checked", False)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_gpu_reason", None)
    reason = backend.gpu_unavailable_reason()
    assert reason is not None and "CuPy" in reason
    assert engine.available_devices() == ["cpu"]
    with pytest.raises(DeviceError, match="device 'gpu' is unavailable: CuPy"):
        Tensor([1.0]).to("gpu")
    with pytest.raises(DeviceError, match="unavailable"):
        Tensor([1.0], device="gpu")


def test_mixed_devices_name_both(fake_cupy: types.ModuleType) -> None:
    g = gpu_tensor([1.0, 2.0], autograd=True)
    c = Tensor([3.0, 4.0])
    assert g.device == "gpu" and backend.get_array_module(g.data) is fake_cupy
    for fn in (lambda: g + c, lambda: c * g, lambda: engine.concat([c, g])):
        with pytest.raises(DeviceError, match=r"gpu and cpu|cpu and gpu"):
            fn()


def test_scalars_follow_the_tensor_device(fake_cupy: types.ModuleType) -> None:
    g = gpu_tensor([1.0, 2.0])
    assert (g * 2.0).device == "gpu"


def test_to_numpy_copies_from_gpu(fake_cupy: types.ModuleType) -> None:
    g = gpu_tensor([1.0, 2.0])
    n = g.numpy()
    assert type(n) is np.ndarray and n.tolist() == [1.0, 2.0]
    assert type(backend.to_numpy(g.data)) is np.ndarray


def test_round_trip_between_devices(device: str, xp: Any) -> None:
    t = Tensor([[1.0, 2.0]], autograd=True).to(device)
    assert t.device == device and backend.get_array_module(t.data) is xp
    (t * t).sum().backward()
    assert t.grad.device == device
    back = t.to("cpu")
    assert back.device == "cpu" and back.data.tolist() == [[1.0, 2.0]]
    assert back.autograd


def test_same_device_to_is_identity() -> None:
    t = Tensor([1.0])
    assert t.to("cpu") is t


def test_default_dtype_must_be_float() -> None:
    with pytest.raises(TypeError, match="floating"):
        engine.set_default_dtype(np.int32)


def test_ops_run_on_each_device(device: str, xp: Any) -> None:
    x = Tensor(xp.asarray([[0.5, -1.0], [2.0, 0.0]]), autograd=True)
    w = Tensor(xp.asarray([[1.0], [2.0]]), autograd=True)
    loss = (x.mm(w).tanh() + x.relu().sum(1, keepdims=True)).cross_entropy(xp.asarray([0, 0]))
    loss.backward()
    assert loss.device == device and x.grad.device == device and w.grad.device == device
    idx = Tensor(xp.asarray([1, 1]))
    emb = x.index_select(idx)
    emb.sum().backward()
    assert backend.to_numpy(x.grad.data).shape == (2, 2)


def test_allocator_tuning_can_be_opted_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODEGRAD_NO_MALLOPT", "1")
    assert backend.tune_allocator() is False
    monkeypatch.delenv("NODEGRAD_NO_MALLOPT")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert backend.tune_allocator() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert backend.tune_allocator() is glibc


@pytest.mark.parametrize("row_shape", [(), (3,), (2, 2)])
def test_scatter_add_rows_equals_add_at(row_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    index = rng.integers(-5, 5, (4, 6))
    values = rng.normal(size=(4, 6, *row_shape))
    expected = np.zeros((5, *row_shape))
    np.add.at(expected, index, values)
    target = np.zeros((5, *row_shape))
    backend.scatter_add_rows(target, index, values)
    np.testing.assert_allclose(target, expected, atol=1e-12)
