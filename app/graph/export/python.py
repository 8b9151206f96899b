"""Export a graph as a standalone Python script on nodegrad's ``engine``.

The script holds a ``Model`` layer with one attribute per node that builds something, a forward
method in the editor's execution order, ``build_model()`` (with the trained weights written
beside the script, see :mod:`app.graph.export.files`) and ``predict(x)``, and the dataset, loss,
optimizer and training loop of the document's settings. Seeded like the editor, it reproduces the
editor's training losses.
"""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING

import engine
from app.graph.export.code_text import (
    STDLIB,
    data_helpers,
    free_names,
    from_import,
    stdlib_imports,
)
from app.graph.export.common import ExportedScript, plan_model
from app.graph.export.script import Dialect, engine_script

if TYPE_CHECKING:
    from app.graph.document import GraphDocument

ENGINE = Dialect(
    name="engine",
    base="Layer",
    tensor="Tensor({0})",
    tensor_gpu="Tensor({0}, device=DEVICE)",
    to_numpy="{0}.numpy()",
    no_grad="no_grad()",
    seed="np.random.seed(SEED)",
    adam="Adam(model.parameters(), alpha=LEARNING_RATE)",
    sgd="SGD(model.parameters(), alpha=LEARNING_RATE)",
    sgd_momentum="SGD(model.parameters(), alpha=LEARNING_RATE, momentum=MOMENTUM)",
    update=("loss.backward()", "optimizer.step()"),
    adamw="AdamW(model.parameters(), alpha=LEARNING_RATE)",
    clip="clip_grad_norm(model.parameters(), GRAD_CLIP)",
    schedules=("", ""),
    warmup_keyword=True,
    move_model="model.to(DEVICE)",
    device="gpu",
    description="script on nodegrad's engine",
    load_state="model.load_state_dict(arrays)",
    save_state="model.state_dict()",
)


def export_python(
    document: GraphDocument,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
) -> str:
    """Return a runnable, ruff-clean script that builds and trains the graph with ``engine``.

    Parameters
    ----------
    document
        A valid graph with one Dataset node and at least one loss node.
    title
        The graph's name (e.g. the file's stem), written as the ``GRAPH`` string literal.
    script_dir
        The folder the script will be saved in: data files the graph names relative to its
        own folder are then found relative to the script. None: absolute paths.
    train
        False writes an inference-only script (``build_model``/``predict`` and an evaluation
        when run, no training loop).

    Raises
    ------
    GraphError
        When the graph has errors or a node cannot be written out.
    """
    return engine_export(document, title, script_dir, train=train).code


def engine_export(
    document: GraphDocument,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
) -> ExportedScript:
    """:func:`export_python`'s script with the notice to show beside it (why the blocks were
    written flat, if they were)."""
    plan = plan_model(document, "engine", title, script_dir)
    return ExportedScript(engine_script(plan, ENGINE, engine_imports, train), plan.notice)


def engine_imports(code: str) -> str:
    """The import block for the names ``code`` uses from numpy and the engine (isort order)."""
    used = free_names(code)
    from_data = data_helpers(used)
    candidates = used - set(from_data) - set(dir(builtins)) - set(STDLIB)
    from_engine = {
        n for n in candidates if (hasattr(engine, n) and not n.startswith("__")) or n == "data"
    }  # ``__file__`` is the script's own; ``Path`` comes from pathlib (stdlib_imports)
    lines = [*stdlib_imports(used), "import numpy as np", "", from_import("engine", from_engine)]
    if from_data:
        lines.append(from_import("engine.data", from_data))
    return "\n".join(lines)
