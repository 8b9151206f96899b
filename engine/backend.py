"""Array backends: NumPy on the CPU, CuPy on a GPU, and the default floating dtype.

CuPy is imported lazily, here only, the first time a GPU is asked for. Every op finds its array
module with :func:`get_array_module`, so the same code runs on both devices.

On Linux with glibc, importing the engine raises malloc's mmap and trim thresholds (to 32 and
64 MiB; see :func:`tune_allocator`). With the defaults, the arrays a backward pass frees at its
end go back to the kernel and the next step faults them in again, which made the backward of
layer-sized ops (128x128 to 512x512) two to three times slower. Set ``NODEGRAD_NO_MALLOPT=1``, or
any ``MALLOC_*_THRESHOLD_`` variable, to keep the C library's defaults.
"""

from __future__ import annotations

import ctypes
import os
import sys
from types import ModuleType
from typing import Any, cast

import numpy as np

from engine.errors import DeviceError

__all__ = [
    "array_module",
    "as_array",
    "as_operand",
    "available_devices",
    "check_same_device",
    "device_of",
    "fused_kernel",
    "get_array_module",
    "get_default_dtype",
    "gpu_unavailable_reason",
    "has_fused_kernels",
    "promote_floats",
    "scatter_add",
    "scatter_add_rows",
    "set_default_dtype",
    "to_device",
    "to_numpy",
    "tune_allocator",
]

DEVICES = ("cpu", "gpu")
_default_dtype: np.dtype = np.dtype(np.float32)
_cupy: ModuleType | None = None
_gpu_reason: str | None = None
_gpu_checked = False


def tune_allocator() -> bool:
    """Keep freed heap memory for reuse instead of returning it to the kernel after every step.

    Sets glibc's ``M_MMAP_THRESHOLD`` to 32 MiB and ``M_TRIM_THRESHOLD`` to 64 MiB (the values
    glibc's own dynamic threshold grows to), so the arrays of one training step are served again
    from the heap in the next one. Called once when the engine is imported.

    Returns
    -------
    bool
        Whether the settings were applied (False off glibc, or when opted out by the
        environment, see the module docstring).
    """
    env = os.environ
    opted_out = env.get("NODEGRAD_NO_MALLOPT") or any(
        k in env for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
    )
    if opted_out or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(
            libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 64 << 20)
        )
    except (OSError, AttributeError):  # not glibc (musl, ...): keep its defaults
        return False


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that float input (and new parameters) are converted to.

    Parameters
    ----------
    dtype : numpy dtype or its name
        ``np.float32`` (the default), ``np.float64`` (gradient checks) or ``np.float16``.

    Raises
    ------
    TypeError
        If ``dtype`` is not a floating dtype.

    Examples
    --------
    >>> import numpy as np
    >>> set_default_dtype(np.float64); get_default_dtype()
    dtype('float64')
    >>> set_default_dtype("float32"); get_default_dtype()
    dtype('float32')
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"default dtype must be a floating dtype, got {dt}")
    _default_dtype = dt


def get_default_dtype() -> np.dtype:
    """Return the dtype float input is converted to (float32 unless changed)."""
    return _default_dtype


def _load_cupy() -> ModuleType | None:
    """Import CuPy and check a GPU works, once; remember why not if it fails."""
    global _cupy, _gpu_reason, _gpu_checked
    if _gpu_checked:
        return _cupy
    _gpu_checked, _gpu_reason = True, None
    try:
        import cupy  # optional, imported on first use
    except Exception as exc:  # ImportError, or a broken CUDA install raising anything
        _gpu_reason = f"CuPy is not installed or failed to import ({exc.__class__.__name__}: {exc})"
        return None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            _gpu_reason = "CuPy found no CUDA device"
            return None
        cupy.asarray([1.0]).sum().item()  # compiles and runs one kernel
    except Exception as exc:
        _gpu_reason = f"CuPy is installed but no GPU is usable ({exc.__class__.__name__}: {exc})"
        return None
    _cupy = cast(ModuleType, cupy)  # CuPy ships no type information
    return _cupy


def gpu_unavailable_reason() -> str | None:
    """Return why the GPU cannot be used, or None when it can.

    Examples
    --------
    >>> reason = gpu_unavailable_reason()
    >>> reason is None or isinstance(reason, str)
    True
    """
    _load_cupy()
    return _gpu_reason


def available_devices() -> list[str]:
    """Return the usable devices: always ``"cpu"``, plus ``"gpu"`` when CuPy runs on a GPU.

    Examples
    --------
    >>> available_devices()[0]
    'cpu'
    """
    return ["cpu", "gpu"] if _load_cupy() is not None else ["cpu"]


def array_module(device: str) -> ModuleType:
    """Return the array module for ``device`` (``numpy`` or ``cupy``).

    Raises
    ------
    DeviceError
        For an unknown device name, or ``"gpu"`` when no GPU is usable (the message says why).
    """
    if device == "cpu":
        return np
    if device == "gpu":
        cp = _load_cupy()
        if cp is None:
            raise DeviceError(f"device 'gpu' is unavailable: {_gpu_reason}")
        return cp
    raise DeviceError(f"unknown device {device!r}; expected one of {DEVICES}")


def get_array_module(x: Any) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that ``x`` belongs to.

    Examples
    --------
    >>> get_array_module(np.zeros(2)).__name__
    'numpy'
    """
    if type(x) is np.ndarray:
        return np
    cp = sys.modules.get("cupy")
    if cp is not None and isinstance(x, cp.ndarray):
        return cp
    return np


_fused_kernels: dict[str, Any] = {}


def fused_kernel(name: str, in_params: str, out_params: str, body: str) -> Any:
    """The CuPy ``ElementwiseKernel`` ``name`` (compiled on first use, then kept): the
    engine's fused GPU work, e.g. :mod:`engine.nn.lstm_cuda` and :mod:`engine.optim_cuda`.

    Raises
    ------
    DeviceError
        When no GPU is usable.
    """
    if name not in _fused_kernels:
        cp = array_module("gpu")
        _fused_kernels[name] = cp.ElementwiseKernel(in_params, out_params, body, name)
    return _fused_kernels[name]


def has_fused_kernels(*arrays: Any) -> bool:
    """Whether the engine's fused CuPy kernels serve these arrays: float32 or float64, all of
    one dtype (float16 and mixed dtypes take the array-operation path).

    Examples
    --------
    >>> has_fused_kernels(np.zeros(2, np.float32), np.zeros(2, np.float32))
    True
    >>> has_fused_kernels(np.zeros(2, np.float16))
    False
    """
    dtypes = {np.dtype(a.dtype) for a in arrays}
    return len(dtypes) == 1 and dtypes.pop() in (np.dtype(np.float32), np.dtype(np.float64))


def device_of(a: Any) -> str:
    """Return ``"gpu"`` for a CuPy array, else ``"cpu"``.

    Examples
    --------
    >>> device_of(np.ones(3))
    'cpu'
    """
    return "cpu" if get_array_module(a) is np else "gpu"


def to_numpy(a: Any) -> np.ndarray:
    """Return ``a`` as a NumPy array (copied from the GPU when it lives there).

    Examples
    --------
    >>> to_numpy([1, 2])
    array([1, 2])
    """
    if type(a) is np.ndarray:
        return a
    xp = get_array_module(a)
    if xp is not np:
        return cast(np.ndarray, xp.asnumpy(a))
    return np.asarray(a)


def to_device(a: Any, device: str) -> Any:
    """Return the array ``a`` on ``device``, itself when it is already there.

    Raises
    ------
    DeviceError
        As :func:`array_module`.
    """
    xp = array_module(device)
    if get_array_module(a) is xp:
        return a
    return to_numpy(a) if xp is np else xp.asarray(a)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """Add ``values`` into ``target[index]`` in place, accumulating repeated indices."""
    xp = get_array_module(target)
    if hasattr(xp.add, "at"):  # NumPy, CuPy >= 13
        xp.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def scatter_add_rows(target: Any, index: Any, values: Any) -> None:
    """Add row ``k`` of ``values`` into ``target[index.flat[k]]`` in place, for every ``k``.

    ``index`` holds integer row numbers of ``target`` (negative ones count from the end);
    ``values`` has shape ``index.shape + target.shape[1:]``. Repeated rows accumulate. On the
    CPU the rows are sorted and summed with ``np.add.reduceat``, several times faster than
    ``np.add.at`` (an embedding's backward).

    Examples
    --------
    >>> t = np.zeros((3, 2))
    >>> scatter_add_rows(t, np.array([2, 0, 2]), np.ones((3, 2)))
    >>> t
    array([[1., 1.],
           [0., 0.],
           [2., 2.]])
    """
    xp = get_array_module(target)
    idx = index.reshape(-1)
    rows = values.reshape(idx.size, -1)
    if xp is not np or idx.size == 0:
        scatter_add(target.reshape(target.shape[0], -1), idx, rows)
        return
    idx = np.where(idx < 0, idx + target.shape[0], idx)
    order = np.argsort(idx, kind="stable")
    ordered = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    flat = target.reshape(target.shape[0], -1)
    flat[ordered[starts]] += np.add.reduceat(rows[order], starts, axis=0)


def as_array(data: Any, dtype: Any = None, device: str | None = None) -> Any:
    """Copy ``data`` into an array: float input becomes the default dtype, ints stay ints.

    Raises
    ------
    TypeError
        If ``data`` is not numeric (NumPy would make an object array).

    Examples
    --------
    >>> as_array([1.5, 2.0]).dtype, as_array([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    if get_array_module(data) is np:
        arr = np.array(data)
        if arr.dtype == object:
            raise TypeError(f"Tensor data must be numeric, got an object array from {data!r:.60}")
    else:
        arr = data.copy()
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind == "f" and arr.dtype != _default_dtype:
        arr = arr.astype(_default_dtype)
    if device is not None:
        arr = to_device(arr, device)
    return arr


def as_operand(x: Any, like: Any, xp: ModuleType) -> Any:
    """Turn a scalar or array operand into an array of module ``xp``, in ``like``'s float dtype.

    Python scalars and float arrays never upcast a float32 tensor; a float scalar with an integer
    tensor gives the default float dtype.

    Examples
    --------
    >>> as_operand(2.5, np.ones(1, np.float32), np).dtype
    dtype('float32')
    >>> as_operand(2, np.ones(1, np.int64), np).dtype
    dtype('int64')
    """
    arr = xp.asarray(x)
    kind = arr.dtype.kind
    if kind == "f" or (kind in "iub" and isinstance(x, float)):
        dt = like.dtype if like.dtype.kind == "f" else _default_dtype
        if arr.dtype != dt:
            arr = arr.astype(dt)
    return arr


def promote_floats(arrays: list[Any]) -> list[Any]:
    """Cast integer operands to the float dtype of the others (never silently to float64).

    Examples
    --------
    >>> [a.dtype.name for a in promote_floats([np.ones(1, np.int64), np.ones(1, np.float32)])]
    ['float32', 'float32']
    """
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    if not floats:
        return arrays
    target = np.result_type(*floats)
    return [a if a.dtype == target else a.astype(target) for a in arrays]


def check_same_device(op_name: str, arrays: list[Any]) -> None:
    """Raise :class:`DeviceError` naming both devices when ``arrays`` mix CPU and GPU."""
    devices = [device_of(a) for a in arrays]
    if len(set(devices)) > 1:
        raise DeviceError(
            f"{op_name}: operands are on different devices ({' and '.join(devices)}); "
            "move them to one device with .to('cpu') or .to('gpu')"
        )


tune_allocator()
