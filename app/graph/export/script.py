"""The parts of an exported script both flavors share, written through a :class:`Dialect`: the
``Model`` class, ``accuracy``/``evaluate`` and the ``train`` loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.graph.export.common import ModelPlan, indent, settings_constants

if TYPE_CHECKING:
    from app.graph.document import TrainingSettings


@dataclass(frozen=True)
class Dialect:
    """How one framework spells the few things the script does differently."""

    name: str
    base: str  # the Model's base class
    tensor: str  # wraps a NumPy batch, ``{0}`` is the array
    tensor_gpu: str  # the same, on the GPU
    to_numpy: str  # ``{0}`` is a tensor
    no_grad: str
    seed: str
    adam: str
    sgd: str
    sgd_momentum: str
    update: tuple[str, ...]  # the lines after the forward pass of a training step
    adamw: str
    clip: str  # clips the gradients' norm to GRAD_CLIP
    schedules: tuple[str, str]  # the schedules' prefix and the line that defines it, if any
    warmup_keyword: bool  # whether the schedules take ``warmup=`` (else: SequentialLR)
    move_model: str
    device: str  # the device name the settings' "gpu" becomes
    description: str


def script(plan: ModelPlan, dialect: Dialect, imports: Callable[[str], str]) -> str:
    """Assemble the whole script: docstring, imports, constants, model, metrics and loop."""
    body = [
        *settings_constants(plan.settings, dialect.device),
        "",
        "",
        *(line for block in plan.support for line in (*block.splitlines(), "", "")),
        *model_class(plan, dialect),
        "",
        "",
        *metric_functions(plan, dialect),
        "",
        "",
        *train_function(plan, dialect),
        "",
        "",
        'if __name__ == "__main__":',
        "    train()",
    ]
    code = "\n".join(body) + "\n"
    header = [
        f'"""{plan.title}: a nodegrad graph exported as a {dialect.description}.',
        "",
        "Running it trains the model with the graph's training settings and prints the losses",
        'and the validation metrics after every epoch, as "nodegrad train" does.',
        '"""',
        "",
    ]
    return "\n".join(header) + "\n" + imports(code) + "\n\n" + code


def model_class(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """The ``Model`` class: constructors in build order, forward in execution order."""
    init = ["def __init__(self):", "    super().__init__()"]
    init += [f"    self.{name} = {expression}" for name, expression in plan.attributes]
    forward = [f"def forward(self, {', '.join(plan.inputs)}):"]
    forward.append('    """Return the prediction and the loss of one batch."""')
    forward += [f"    {s.target} = {s.expression}" for s in plan.statements]
    forward.append(f"    return {plan.prediction}, {plan.loss}")
    return [
        f"class Model({dialect.base}):",
        '    """The graph\'s nodes, built and run in the editor\'s order."""',
        "",
        *indent(init),
        "",
        *indent(forward),
    ]


def _batch(plan: ModelPlan, dialect: Dialect) -> str:
    """``Tensor(x), Tensor(y)`` in the dialect (on the GPU when the settings say so)."""
    wrap = dialect.tensor_gpu if plan.settings.device == "gpu" else dialect.tensor
    return f"{wrap.format('x')}, {wrap.format('y')}"


def metric_functions(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``accuracy`` (classification only) and ``evaluate``."""
    lines: list[str] = []
    classify = plan.task != "regression"
    scores = dialect.to_numpy.format("prediction")
    if classify:
        guess = f"({scores}[..., 0] > 0)" if plan.binary else f"{scores}.argmax(axis=-1)"
        lines += [
            "def accuracy(prediction, y):",
            '    """Number of correct guesses in a batch."""',
            f"    return int(({guess} == y).sum())",
            "",
            "",
        ]
    lines += [
        "def evaluate(model, dataset):",
        '    """Mean loss (and accuracy) on ``dataset``, without training."""',
        "    model.eval()",
        "    total_loss, correct = 0.0, 0" if classify else "    total_loss = 0.0",
        f"    with {dialect.no_grad}:",
        "        for x, y in DataLoader(dataset, max(BATCH_SIZE, 256), shuffle=False):",
        f"            {'prediction' if classify else '_'}, loss = model({_batch(plan, dialect)})",
        "            total_loss += loss.item() * len(x)",
    ]
    if classify:
        lines.append("            correct += accuracy(prediction, y)")
    lines.append("    model.train()")
    accuracy = "correct / dataset.y.size" if classify else "None"
    lines.append(f"    return total_loss / len(dataset), {accuracy}")
    return lines


def train_function(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``train(epochs)``: data, seeded model, optimizer and the loop; returns every loss."""
    settings = plan.settings
    if settings.optimizer in ("adam", "adamw"):
        optimizer = dialect.adam if settings.optimizer == "adam" else dialect.adamw
    else:
        optimizer = dialect.sgd_momentum if settings.momentum else dialect.sgd
    if settings.weight_decay:
        optimizer = optimizer[:-1] + ", weight_decay=WEIGHT_DECAY)"
    update = list(dialect.update)
    if settings.grad_clip:
        update.insert(len(update) - 1, dialect.clip)  # before ``optimizer.step()``
    schedule = schedule_lines(settings, dialect)
    lines = [
        "def train(epochs=EPOCHS):",
        '    """Train a freshly seeded model; return it and the loss of every step."""',
        f"    dataset = {plan.dataset_call}",
    ]
    if settings.val_split:
        lines.append("    train_set, val_set = split(dataset, VAL_SPLIT, seed=SEED)")
    else:
        lines.append("    train_set = dataset")
    lines += [f"    {dialect.seed}", "    model = Model()"]
    if settings.device == "gpu":
        lines.append(f"    {dialect.move_model}")
    lines += [
        f"    optimizer = {optimizer}",
        *indent(schedule),
        "    loader = DataLoader(train_set, BATCH_SIZE, shuffle=True, seed=SEED)",
        "    losses = []",
        *(['    best_val_loss, stale = float("inf"), 0'] if settings.early_stopping else []),
        "    for epoch in range(epochs):",
        "        for x, y in loader:",
        f"            _, loss = model({_batch(plan, dialect)})",
        *indent(update, 3),
        "            losses.append(loss.item())",
        *(["        scheduler.step()"] if schedule else []),
        "        steps = losses[-len(loader) :]",
        '        report = f"epoch {epoch + 1}/{epochs}: loss {sum(steps) / len(steps):.4f}"',
        *_validation_report(plan),
        "        print(report)",
        *_early_stopping(plan),
        "    return model, losses",
    ]
    return lines


def schedule_lines(settings: TrainingSettings, dialect: Dialect) -> list[str]:
    """The statements building ``scheduler``, the settings' learning-rate schedule, in the
    dialect (none for a constant rate without warm-up)."""
    warmup = settings.warmup_epochs
    t_max = "EPOCHS - WARMUP_EPOCHS" if warmup else "EPOCHS"
    main = {
        "step": "StepLR(optimizer, LR_STEP_SIZE, LR_GAMMA",
        "cosine": f"CosineAnnealingLR(optimizer, {t_max}, LR_MIN",
    }.get(settings.lr_schedule)
    ramp = "LinearLR(optimizer, 1 / (WARMUP_EPOCHS + 1), 1.0, WARMUP_EPOCHS)"
    if main is None and not warmup:
        return []
    prefix, alias = dialect.schedules
    lines = [alias] if alias else []
    if main is None:
        return [*lines, f"scheduler = {prefix}{ramp}"]
    if not warmup:
        return [*lines, f"scheduler = {prefix}{main})"]
    if dialect.warmup_keyword:
        return [*lines, f"scheduler = {prefix}{main}, warmup=WARMUP_EPOCHS)"]
    return [
        *lines,
        f"warmup = {prefix}{ramp}",
        f"main = {prefix}{main})",
        f"scheduler = {prefix}SequentialLR(optimizer, [warmup, main], [WARMUP_EPOCHS])",
    ]


def _early_stopping(plan: ModelPlan) -> list[str]:
    """The loop's lines that stop when the validation loss stalls (early stopping set)."""
    if not plan.settings.early_stopping or not plan.settings.val_split:
        return []
    return [
        "        if val_loss < best_val_loss:",
        "            best_val_loss, stale = val_loss, 0",
        "        else:",
        "            stale += 1",
        "            if stale >= EARLY_STOPPING:",
        '                print(f"stopped early: no better validation loss for {stale} epochs")',
        "                break",
    ]


def _validation_report(plan: ModelPlan) -> list[str]:
    """The loop's lines adding the validation metrics to an epoch's report (if there is a split)."""
    if not plan.settings.val_split:
        return []
    if plan.task == "regression":
        return [
            "        val_loss, _ = evaluate(model, val_set)",
            '        report += f", val loss {val_loss:.4f}"',
        ]
    return [
        "        val_loss, val_accuracy = evaluate(model, val_set)",
        '        report += f", val loss {val_loss:.4f}, val accuracy {val_accuracy:.2%}"',
    ]
