"""The engine's exception types, all derived from :class:`EngineError`."""

from __future__ import annotations

__all__ = ["DeviceError", "EngineError", "ShapeError"]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ShapeError(EngineError, ValueError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes."""


class DeviceError(EngineError, RuntimeError):
    """Operands on different devices, or a device that cannot be used (the message says why)."""
