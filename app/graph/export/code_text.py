"""Text helpers both exporters share: the training settings as constants, indentation, and the
import lines a generated script needs."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.graph.document import TrainingSettings


def settings_constants(settings: TrainingSettings, gpu_name: str) -> list[str]:
    """The training settings as module constants."""
    lines = [
        f"SEED = {settings.seed!r}",
        f"EPOCHS = {settings.epochs!r}",
        f"BATCH_SIZE = {settings.batch_size!r}",
        f"LEARNING_RATE = {settings.learning_rate!r}",
    ]
    if settings.optimizer == "sgd" and settings.momentum:
        lines.append(f"MOMENTUM = {settings.momentum!r}")
    lines.append(f"VAL_SPLIT = {settings.val_split!r}")
    lines += optimization_constants(settings)
    if settings.device == "gpu":
        lines.append(f'DEVICE = "{gpu_name}"')
    return lines


def optimization_constants(settings: TrainingSettings) -> list[str]:
    """Constants of the optional training settings that are switched on (none by default)."""
    schedule = settings.lr_schedule
    wanted = {
        "WEIGHT_DECAY": settings.weight_decay or None,
        "GRAD_CLIP": settings.grad_clip or None,
        "LR_STEP_SIZE": settings.lr_step_size if schedule == "step" else None,
        "LR_GAMMA": settings.lr_gamma if schedule == "step" else None,
        "LR_MIN": settings.lr_min if schedule == "cosine" else None,
        "WARMUP_EPOCHS": settings.warmup_epochs or None,
        "EARLY_STOPPING": settings.early_stopping or None,
    }
    return [f"{name} = {value!r}" for name, value in wanted.items() if value is not None]


def indent(lines: list[str], level: int = 1) -> list[str]:
    """Indent non-empty lines by ``level`` levels of four spaces."""
    pad = "    " * level
    return [pad + line if line else "" for line in lines]


def from_import(module: str, names: Iterable[str]) -> str:
    """``from module import a, b`` sorted and wrapped the way ruff's isort wants it.

    Examples
    --------
    >>> from_import("engine", {"data", "LSTM", "Linear"})
    'from engine import LSTM, Linear, data'
    """

    def kind(name: str) -> tuple[int, str]:
        if name.isupper() and len(name) > 1:
            return 0, name
        return (1 if name[:1].isupper() else 2), name

    ordered = sorted(names, key=kind)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")"


def free_names(code: str) -> set[str]:
    """Names ``code`` reads but never binds (what it must import)."""
    tree = ast.parse(code)
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound


STDLIB = {
    "csv": "import csv",
    "functools": "import functools",
    "os": "import os",
    "sys": "import sys",
    "Path": "from pathlib import Path",
}


def stdlib_imports(used: set[str]) -> list[str]:
    """The standard-library import lines (and the blank line after them) a script needs, in
    isort order: ``csv``, ``functools``, ``os``, ``sys``, ``Path``."""
    lines = [line for name, line in STDLIB.items() if name in used]
    return [*lines, ""] if lines else []


def data_helpers(used: set[str]) -> list[str]:
    """The names of ``engine.data`` (beside the ``data`` module) a script uses."""
    return [n for n in ("DataLoader", "split") if n in used]
