"""The vectorising scalar maths of compiled kernels (``engine/kernels/vmath.py``): float32
``exp``, ``tanh`` and ``sigmoid`` against float64 over their whole range, their limits, NaN and
infinities; float64 equal to the C library's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from engine.kernels.compiler import kernel
from engine.kernels.vmath import exp, sigmoid, tanh


@kernel
def _exp_into(x: Any, out: Any) -> None:
    for i in range(x.size):
        out[i] = exp(x[i])


@kernel
def _tanh_into(x: Any, out: Any) -> None:
    for i in range(x.size):
        out[i] = tanh(x[i])


@kernel
def _sigmoid_into(x: Any, out: Any) -> None:
    for i in range(x.size):
        out[i] = sigmoid(x[i])


KERNELS = {"exp": _exp_into, "tanh": _tanh_into, "sigmoid": _sigmoid_into}
EXACT = {
    "exp": np.exp,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


def run(name: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    KERNELS[name](x, out)
    return out


GRID = np.concatenate(
    [np.linspace(-110, 90, 400_001), np.geomspace(1e-30, 1.0, 2001), -np.geomspace(1e-30, 1, 2001)]
).astype(np.float32)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_float32_within_a_few_roundings_of_float64(name: str) -> None:
    exact = EXACT[name](GRID.astype(np.float64))
    ours = run(name, GRID).astype(np.float64)
    info = np.finfo(np.float32)
    normal = (np.abs(exact) <= info.max) & (np.abs(exact) > info.tiny)
    rel = np.abs(ours[normal] - exact[normal]) / np.abs(exact[normal])
    assert rel.max() < 3.6e-7
    assert np.isinf(ours[exact > info.max]).all()
    subnormal = np.abs(exact) <= info.tiny
    # exp keeps subnormal results to their own precision; sigmoid flushes them to 0
    limit = 1.5e-45 if name == "exp" else info.tiny
    assert np.abs(ours[subnormal] - exact[subnormal]).max(initial=0.0) <= limit


def test_float32_limits_infinities_and_nan() -> None:
    x = np.float32([-np.inf, -200.0, 0.0, 89.0, 200.0, np.inf, np.nan])
    e = run("exp", x)
    assert e[:6].tolist() == [0.0, 0.0, 1.0, np.inf, np.inf, np.inf] and np.isnan(e[6])
    t = run("tanh", x)
    assert t[:6].tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0, 1.0] and np.isnan(t[6])
    s = run("sigmoid", x)
    assert s[:6].tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0] and np.isnan(s[6])
    top = np.float32(88.72)
    assert run("exp", np.float32([top]))[0] == np.float32(math.exp(float(top)))


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_float64_is_the_c_librarys(name: str) -> None:
    x = np.linspace(-50, 50, 10_001)
    np.testing.assert_allclose(run(name, x), EXACT[name](x), rtol=4e-16, atol=0)


def test_importing_the_engine_does_not_import_the_compiler() -> None:
    import subprocess
    import sys

    code = "import sys, engine; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kernels_are_cached_where_the_user_says_and_compiled_in_memory_when_unwritable(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.kernels import compiler

    monkeypatch.setenv("NODEGRAD_KERNEL_CACHE", str(tmp_path / "cache"))
    folder = compiler.cache_dir()
    assert folder is not None and folder.parent == tmp_path / "cache" and folder.is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NODEGRAD_KERNEL_CACHE", str(blocker))
    assert compiler.cache_dir() is None
