"""Fixtures for the engine tests: a device over NumPy and CuPy, and the default dtype restored."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

import engine
from engine import backend


@pytest.fixture(params=["cpu", "gpu"])
def device(request: pytest.FixtureRequest) -> str:
    """Each test runs on the CPU and, where CuPy runs on a GPU, on the GPU."""
    if request.param == "gpu":
        reason = backend.gpu_unavailable_reason()
        if reason is not None:
            pytest.skip(f"GPU tests skipped: {reason}")
    return str(request.param)


@pytest.fixture
def xp(device: str) -> ModuleType:
    """The array module of ``device``."""
    return backend.array_module(device)


@pytest.fixture(autouse=True)
def _restore_dtype() -> Iterator[None]:
    """Leave the default dtype as each test found it."""
    previous = engine.get_default_dtype()
    yield
    engine.set_default_dtype(previous)
