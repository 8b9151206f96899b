"""Export a graph as a PyTorch script: the same model, loss, optimizer and loop as the editor's,
as a ``torch.nn.Module``, for users who move on to a larger framework or to several GPUs.

The data still comes from ``engine.data`` (NumPy arrays), so both scripts see the same batches.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from app.graph.export.common import (
    data_helpers,
    free_names,
    from_import,
    plan_model,
    stdlib_imports,
)
from app.graph.export.script import Dialect, script

if TYPE_CHECKING:
    from app.graph.document import GraphDocument

TORCH = Dialect(
    name="torch",
    base="nn.Module",
    tensor="torch.from_numpy({0})",
    tensor_gpu="torch.from_numpy({0}).to(DEVICE)",
    to_numpy="{0}.cpu().numpy()",
    no_grad="torch.no_grad()",
    seed="torch.manual_seed(SEED)",
    adam="torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)",
    sgd="torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)",
    sgd_momentum="torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)",
    update=("optimizer.zero_grad()", "loss.backward()", "optimizer.step()"),
    adamw="torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)",
    clip="torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)",
    schedules=("schedules.", "schedules = torch.optim.lr_scheduler"),
    warmup_keyword=False,
    move_model="model.to(DEVICE)",
    device="cuda",
    description="PyTorch script",
)


def export_torch(
    document: GraphDocument, title: str = "model", script_dir: str | os.PathLike[str] | None = None
) -> str:
    """Return a runnable, ruff-clean PyTorch script that builds and trains the graph
    (``script_dir`` as for :func:`~app.graph.export.python.export_python`).

    Raises
    ------
    GraphError
        When the graph has errors or a node cannot be written out.
    """
    return script(plan_model(document, "torch", title, script_dir), TORCH, torch_imports)


def torch_imports(code: str) -> str:
    """The import block (isort order): numpy when used, torch, nn, and the engine's data."""
    used = free_names(code)
    lines = stdlib_imports(used) + (["import numpy as np"] if "np" in used else [])
    lines += ["import torch", "from torch import nn", ""]
    lines.append("from engine import data")
    lines.append(from_import("engine.data", data_helpers(used)))
    return "\n".join(lines)
