"""Export a graph as a PyTorch script that runs without nodegrad: the same model and loss as the
editor's, as a ``torch.nn.Module``, for users who move on to a larger framework, to several GPUs
or to several machines.

The script imports only the standard library, NumPy and torch (and scikit-learn for its built-in
datasets): the data loading is written out (:mod:`~app.graph.export.standalone_data`), giving the
engine's arrays and validation split. It defines ``build_model()`` (trained weights from the
``.weights.npz`` file beside it, keyed as ``Model.state_dict()``) and ``predict(x)``; run as a
script it trains, and under ``torchrun --nproc_per_node=N`` it trains with
``DistributedDataParallel`` (gloo on the CPU, NCCL on CUDA) and a ``DistributedSampler``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from app.graph.export.code_text import free_names, indent, stdlib_imports
from app.graph.export.common import ExportedScript, ModelPlan, plan_model
from app.graph.export.script import (
    Dialect,
    accuracy_function,
    constants,
    early_stopping,
    evaluate_main,
    header,
    mode,
    model_section,
    optimization,
    predict_main,
    save_function,
    validation_report,
)
from app.graph.export.standalone_data import (
    corpus_literal,
    data_function,
    data_imports,
    split_function,
)

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
    load_state="model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})",
    save_state="{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}",
)

TORCHRUN = (
    "\n\nUnder ``torchrun --nproc_per_node=N script.py`` it trains on N processes with"
    "\nDistributedDataParallel (gloo on the CPU, NCCL on CUDA); rank 0 prints and saves."
)

DISTRIBUTED = '''def start_distributed():
    """Under torchrun, join the process group; return this process's device."""
    cuda = DEVICE == "cuda" and torch.cuda.is_available()
    if "LOCAL_RANK" not in os.environ:
        return torch.device("cuda" if cuda else "cpu")
    rank = int(os.environ["LOCAL_RANK"])
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    return torch.device("cuda", rank) if cuda else torch.device("cpu")


def is_main_process():
    """True outside torchrun, and on rank 0 under it."""
    return not dist.is_initialized() or dist.get_rank() == 0'''


def export_torch(
    document: GraphDocument,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
) -> str:
    """Return a runnable, ruff-clean PyTorch script that builds (and, with ``train``, trains)
    the graph; ``title`` and ``script_dir`` as for
    :func:`~app.graph.export.python.export_python`.

    Raises
    ------
    GraphError
        When the graph has errors or a node cannot be written out.
    """
    return torch_export(document, title, script_dir, train=train).code


def torch_export(
    document: GraphDocument,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
) -> ExportedScript:
    """:func:`export_torch`'s script with the notice to show beside it (why the blocks were
    written flat, if they were)."""
    plan = plan_model(document, "torch", title, script_dir)
    run = mode(plan, train)
    if run == "train":
        tail = [*DISTRIBUTED.splitlines(), "", "", *train_function(plan), "", ""]
        tail += [*save_function(TORCH), "", "", *train_main()]
    elif run == "evaluate":
        load = ["    _, (x, y) = load_splits()"]
        tail = evaluate_main(plan, load, "evaluate(build_model(), x, y)")
    else:
        tail = predict_main(plan)
    data = [] if run == "predict" else _data_section(plan)
    body = [
        *constants(plan, TORCH),
        *([] if plan.settings.device == "gpu" else ['DEVICE = "cpu"']),
        *([] if run == "predict" else _corpus(plan)),
        "",
        "",
        *model_section(plan, TORCH),
        "",
        "",
        *data,
        *tail,
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    code = "\n".join(body) + "\n"
    top = header(TORCH, run, TORCHRUN if run == "train" else "")
    script = "\n".join(top) + "\n" + torch_imports(code, plan) + "\n\n" + code
    return ExportedScript(script, plan.notice)


def _data_section(plan: ModelPlan) -> list[str]:
    """``load_data``, ``load_splits`` and ``evaluate``, blank-line separated."""
    return [
        *data_function(plan.data_params),
        "",
        "",
        *splits_function(plan),
        "",
        "",
        *evaluate_function(plan),
        "",
        "",
    ]


def splits_function(plan: ModelPlan) -> list[str]:
    """``load_splits()`` (and ``split`` when the settings hold a validation split)."""
    lines = [
        "def load_splits():",
        '    """The training and validation arrays ``((x, y), (x, y))`` (the whole dataset as both',
        '    without a validation split)."""',
        "    x, y = load_data()",
    ]
    if not plan.settings.val_split:
        return [*lines, "    return (x, y), (x, y)"]
    split = split_function(plan.data_params)
    return [*split, "", "", *lines, "    return split(x, y, VAL_SPLIT, SEED)"]


def _corpus(plan: ModelPlan) -> list[str]:
    """The bundled text corpus as a literal, when the Dataset node reads it."""
    params = plan.data_params
    if params.get("name") != "text" or params.get("path"):
        return []
    from engine.data.text import CORPORA

    corpus = CORPORA[params.get("corpus", "lighthouse")]
    return ["", "", *corpus_literal(corpus.read_text(encoding="utf-8"))]


def evaluate_function(plan: ModelPlan) -> list[str]:
    """``accuracy`` (classification only) and ``evaluate(model, x, y)`` over NumPy arrays."""
    classify = plan.task != "regression"
    lines = accuracy_function(plan, TORCH)
    lines += [
        "def evaluate(model, x_all, y_all):",
        '    """Mean loss (and accuracy) over NumPy arrays, without training."""',
        "    device = next(model.parameters(), torch.empty(0)).device",
        "    size = max(BATCH_SIZE, 256)",
        "    model.eval()",
        "    total_loss, correct = 0.0, 0" if classify else "    total_loss = 0.0",
        "    with torch.no_grad():",
        "        for start in range(0, len(x_all), size):",
        "            x = torch.from_numpy(x_all[start : start + size]).to(device)",
        "            y = torch.from_numpy(y_all[start : start + size]).to(device)",
        f"            {'prediction' if classify else '_'}, loss = model(x, y)",
        "            total_loss += loss.item() * len(x)",
    ]
    if classify:
        lines.append("            correct += accuracy(prediction, y.cpu().numpy())")
    lines.append("    model.train()")
    accuracy = "correct / y_all.size" if classify else "None"
    lines.append(f"    return total_loss / len(x_all), {accuracy}")
    return lines


def train_function(plan: ModelPlan) -> list[str]:
    """``train(epochs)``: seeded model, optimizer, schedule and loop, distributed under
    torchrun (every process evaluates, so early stopping stops them all at once)."""
    settings = plan.settings
    optimizer, update, schedule = optimization(settings, TORCH)
    validation = "(x_val, y_val)" if settings.val_split else "_"
    return [
        "def train(epochs=EPOCHS):",
        '    """Train a freshly seeded model; return it and this process\'s loss of every step."""',
        "    device = start_distributed()",
        f"    (x_train, y_train), {validation} = load_splits()",
        "    torch.manual_seed(SEED)",
        "    model = Model().to(device)",
        "    net = DistributedDataParallel(model) if dist.is_initialized() else model",
        f"    optimizer = {optimizer}",
        *indent(schedule),
        "    samples = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))",
        "    sampler = DistributedSampler(samples, seed=SEED) if dist.is_initialized() else None",
        "    order = torch.Generator().manual_seed(SEED)",
        "    shuffle = sampler is None",
        "    loader = DataLoader(samples, BATCH_SIZE, shuffle, sampler=sampler, generator=order)",
        "    losses = []",
        *(['    best_val_loss, stale = float("inf"), 0'] if settings.early_stopping else []),
        "    for epoch in range(epochs):",
        "        if sampler is not None:",
        "            sampler.set_epoch(epoch)",
        "        for x, y in loader:",
        "            _, loss = net(x.to(device), y.to(device))",
        *indent(update, 3),
        "            losses.append(loss.item())",
        *(["        scheduler.step()"] if schedule else []),
        "        steps = losses[-len(loader) :]",
        "        mean = torch.tensor(sum(steps) / len(steps), device=device)",
        "        if dist.is_initialized():  # the mean over every process",
        "            dist.all_reduce(mean)",
        "            mean /= dist.get_world_size()",
        '        report = f"epoch {epoch + 1}/{epochs}: loss {mean.item():.4f}"',
        *validation_report(plan, "evaluate(model, x_val, y_val)"),
        "        if is_main_process():",
        "            print(report)",
        *early_stopping(plan),
        "    return model, losses",
    ]


def train_main() -> list[str]:
    """``main()``: train, save once (rank 0); under torchrun, wait for every rank and exit."""
    return [
        "def main():",
        '    """Train (on every process under torchrun) and save the weights once."""',
        "    model, _ = train()",
        "    if is_main_process():",
        "        save_weights(model, weights_path())",
        "    if dist.is_initialized():",
        "        dist.barrier()",
        "        dist.destroy_process_group()",
        "        # DistributedDataParallel keeps gloo's threads alive after this; one that",
        "        # lets go of a tensor while Python shuts down aborts the process. Leave now.",
        "        sys.stdout.flush()",
        "        sys.stderr.flush()",
        "        os._exit(0)",
    ]


def torch_imports(code: str, plan: ModelPlan) -> str:
    """The import block (isort order): the standard library, numpy, scikit-learn when a built-in
    dataset needs it, torch and the torch names the code uses."""
    used = free_names(code)
    _, third = data_imports(plan.data_params) if plan.data_params else ([], [])
    lines = [*stdlib_imports(used), "import numpy as np", "import torch"]
    if "dist" in used:
        lines.append("import torch.distributed as dist")
    lines += [*third, "from torch import nn"]
    if "DistributedDataParallel" in used:
        lines.append("from torch.nn.parallel import DistributedDataParallel")
    loaders = [n for n in ("DataLoader", "DistributedSampler", "TensorDataset") if n in used]
    if loaders:
        lines.append(f"from torch.utils.data import {', '.join(loaders)}")
    return "\n".join(lines)
