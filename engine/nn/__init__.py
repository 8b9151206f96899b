"""Placeholder until this part of the engine lands."""

__all__: list[str] = []
