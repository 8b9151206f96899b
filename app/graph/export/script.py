"""The parts of an exported script both flavors share, written through a :class:`Dialect`: the
header, the ``Model`` class, ``build_model``/``predict``, ``accuracy``, and (for the engine) the
``evaluate`` function and the ``train`` loop.

Nothing from the graph is pasted into the code as text: names become identifiers
(:func:`~app.graph.export.common.identifier`), values are checked by their parameter specs, and
strings (the graph's name, file paths, column names) are written as literals (``repr``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.graph.export.code_text import indent, settings_constants
from app.graph.export.common import ModelPlan

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
    load_state: str  # loads ``arrays`` (a dict of NumPy arrays) into ``model``
    save_state: str  # the ``{name: NumPy array}`` dict of ``model``'s state


RUNS = {
    "train": "Running it trains the model with the graph's training settings, prints the losses "
    'and\nthe validation metrics after every epoch, as "nodegrad train" does, and saves the\n'
    "weights where ``build_model()`` reads them.",
    "evaluate": "Running it evaluates the trained model on the validation data (inference only).",
    "predict": "An Input node feeds the model, so there is no data to train on (inference only);"
    "\nrunning it prints the output for a batch of two zero samples shaped like the Input.",
}
"""What running the script does, by :func:`mode`."""


def mode(plan: ModelPlan, train: bool) -> str:
    """``"train"``, ``"evaluate"`` (inference only, on the validation data) or ``"predict"``
    (a model an Input node feeds: inference only, whatever ``train`` asks)."""
    if plan.fed_by_input:
        return "predict"
    return "train" if train else "evaluate"


def header(dialect: Dialect, run: str, extra: str = "") -> list[str]:
    """The module docstring (it names no graph: the name is the ``GRAPH`` literal); ``run`` is
    a :func:`mode`."""
    return [
        f'"""A nodegrad graph (its name is ``GRAPH``) exported as a {dialect.description}.',
        "",
        "Import it for ``build_model()`` (the model with the trained weights saved beside this",
        "script, as <script>.weights.npz, or named by $NODEGRAD_WEIGHTS) and ``predict(x)``.",
        RUNS[run] + extra,
        '"""',
        "",
    ]


def constants(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``GRAPH`` (the graph's name as a literal), ``INPUT_SHAPE`` (one sample, when an Input
    node feeds the model) and the training settings."""
    shape = [] if plan.input_shape is None else [f"INPUT_SHAPE = {plan.input_shape!r}"]
    return [f"GRAPH = {plan.title!r}", *shape, *settings_constants(plan.settings, dialect.device)]


def model_class(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """The ``Model`` class: constructors in build order, forward in execution order, the
    statements that read the targets last (skipped when there are none)."""
    init = ["def __init__(self):", "    super().__init__()"]
    init += [f"    self.{name} = {expression}" for name, expression in plan.attributes]
    forward = ["def forward(self, x, y=None):"]
    forward.append('    """Return the prediction and the loss of one batch (no loss without y)."""')
    first = [s for s in plan.statements if not s.needs_y]
    forward += [f"    {s.target} = {s.expression}" for s in first]
    if not plan.prediction_needs_y and plan.loss != "None":
        forward += ["    if y is None:", f"        return {plan.prediction}, None"]
    forward += [f"    {s.target} = {s.expression}" for s in plan.statements if s.needs_y]
    forward.append(f"    return {plan.prediction}, {plan.loss}")
    return [
        f"class Model({dialect.base}):",
        '    """The graph\'s nodes, built and run in the editor\'s order."""',
        "",
        *indent(init),
        "",
        *indent(forward),
    ]


def model_section(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """The support blocks, the block classes, the model class and the inference functions,
    blank-line separated."""
    return [
        *(line for block in plan.support for line in (*block.splitlines(), "", "")),
        *(line for cls in plan.classes for line in (*cls, "", "")),
        *model_class(plan, dialect),
        "",
        "",
        *inference_functions(plan, dialect),
    ]


def inference_functions(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``weights_path``, ``build_model``, ``trained_model`` and ``predict``."""
    lines = [
        "def weights_path():",
        '    """The trained weights: $NODEGRAD_WEIGHTS, else <this script>.weights.npz."""',
        '    default = Path(__file__).resolve().with_suffix(".weights.npz")',
        '    return os.environ.get("NODEGRAD_WEIGHTS") or str(default)',
        "",
        "",
        "def build_model(weights=None):",
        '    """The graph\'s model, seeded as in the editor, with the trained weights read from',
        '    ``weights`` (default: ``weights_path()``) when that file exists."""',
        f"    {dialect.seed}",
        "    model = Model()",
        "    path = weights_path() if weights is None else weights",
        "    if os.path.exists(path):",
        "        with np.load(path, allow_pickle=False) as archive:",
        "            arrays = {key: archive[key] for key in archive.files}",
        f"        {dialect.load_state}",
        "    return model",
        "",
        "",
        "@functools.lru_cache(maxsize=1)",
        "def trained_model():",
        '    """``build_model()``, built once."""',
        "    return build_model()",
        "",
        "",
    ]
    return lines + _predict(plan, dialect)


def _predict(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``predict(x, model=None)`` (refusing when the prediction needs the targets)."""
    if plan.prediction_needs_y:
        return [
            "def predict(x, model=None):",
            '    """Not available: this graph\'s prediction is computed from the targets."""',
            '    raise NotImplementedError("the prediction of this graph needs the targets")',
        ]
    return [
        "def predict(x, model=None):",
        '    """The Output node\'s value for the NumPy batch ``x`` (evaluation mode), as NumPy."""',
        "    model = trained_model() if model is None else model",
        "    model.eval()",
        "    x = np.asarray(x)",
        '    if x.dtype.kind == "f":',
        "        x = x.astype(np.float32)",
        f"    with {dialect.no_grad}:",
        f"        prediction, _ = model({dialect.tensor.format('x')})",
        f"    return {dialect.to_numpy.format('prediction')}",
    ]


def save_function(dialect: Dialect) -> list[str]:
    """``save_weights(model, path)``: NumPy arrays only, readable without unpickling."""
    return [
        "def save_weights(model, path):",
        '    """Write the model\'s state as NumPy arrays (read back with allow_pickle=False)."""',
        f"    np.savez(path, **{dialect.save_state})",
        '    print(f"saved the weights to {path}")',
    ]


def _batch(plan: ModelPlan, dialect: Dialect) -> str:
    """``Tensor(x), Tensor(y)`` in the dialect (on the GPU when the settings say so)."""
    wrap = dialect.tensor_gpu if plan.settings.device == "gpu" else dialect.tensor
    return f"{wrap.format('x')}, {wrap.format('y')}"


def accuracy_function(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``accuracy(prediction, y)`` for classification; nothing for regression."""
    if plan.task == "regression":
        return []
    scores = dialect.to_numpy.format("prediction")
    guess = f"({scores}[..., 0] > 0)" if plan.binary else f"{scores}.argmax(axis=-1)"
    return [
        "def accuracy(prediction, y):",
        '    """Number of correct guesses in a batch."""',
        f"    return int(({guess} == y).sum())",
        "",
        "",
    ]


def metric_functions(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``accuracy`` (classification only) and ``evaluate`` over an ``engine.data`` dataset."""
    classify = plan.task != "regression"
    lines = accuracy_function(plan, dialect)
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


def _datasets(plan: ModelPlan, train: bool = True) -> list[str]:
    """The lines binding ``train_set`` and ``val_set`` (training) or ``val_set`` (evaluation;
    the whole dataset without a split)."""
    lines = [f"    dataset = {plan.dataset_call}"]
    if plan.settings.val_split:
        part = "train_set, val_set" if train else "_, val_set"
        return [*lines, f"    {part} = split(dataset, VAL_SPLIT, seed=SEED)"]
    return [*lines, f"    {'train_set' if train else 'val_set'} = dataset"]


def optimization(settings: TrainingSettings, dialect: Dialect) -> tuple[str, list[str], list[str]]:
    """The optimizer expression, the update lines of a step (gradient clipping included) and
    the lines building the learning-rate ``scheduler`` (none for a constant rate)."""
    if settings.optimizer in ("adam", "adamw"):
        optimizer = dialect.adam if settings.optimizer == "adam" else dialect.adamw
    else:
        optimizer = dialect.sgd_momentum if settings.momentum else dialect.sgd
    if settings.weight_decay:
        optimizer = optimizer[:-1] + ", weight_decay=WEIGHT_DECAY)"
    update = list(dialect.update)
    if settings.grad_clip:
        update.insert(len(update) - 1, dialect.clip)  # before ``optimizer.step()``
    return optimizer, update, schedule_lines(settings, dialect)


def train_function(plan: ModelPlan, dialect: Dialect) -> list[str]:
    """``train(epochs)``: data, seeded model, optimizer and the loop; returns every loss."""
    settings = plan.settings
    optimizer, update, schedule = optimization(settings, dialect)
    lines = [
        "def train(epochs=EPOCHS):",
        '    """Train a freshly seeded model; return it and the loss of every step."""',
        *_datasets(plan),
        f"    {dialect.seed}",
        "    model = Model()",
    ]
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
        *validation_report(plan),
        "        print(report)",
        *early_stopping(plan),
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


def early_stopping(plan: ModelPlan) -> list[str]:
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


def validation_report(plan: ModelPlan, call: str = "evaluate(model, val_set)") -> list[str]:
    """The loop's lines adding the validation metrics to an epoch's report (if there is a split)."""
    if not plan.settings.val_split:
        return []
    if plan.task == "regression":
        return [f"        val_loss, _ = {call}", '        report += f", val loss {val_loss:.4f}"']
    return [
        f"        val_loss, val_accuracy = {call}",
        '        report += f", val loss {val_loss:.4f}, val accuracy {val_accuracy:.2%}"',
    ]


def evaluate_main(plan: ModelPlan, load: list[str], call: str) -> list[str]:
    """``main()`` of an inference-only script: the trained model's metrics on the validation
    data (``load`` binds ``val_set``; ``call`` evaluates it)."""
    return [
        "def main():",
        '    """Print the trained model\'s loss (and accuracy) on the validation data."""',
        *load,
        f"    loss, accuracy = {call}",
        '    report = f"{GRAPH}: loss {loss:.4f}"',
        '    print(report if accuracy is None else f"{report}, accuracy {accuracy:.2%}")',
    ]


def predict_main(plan: ModelPlan) -> list[str]:
    """``main()`` of a model an Input node feeds: its output for two zero samples."""
    dtype = "np.int64" if plan.input_dtype == "int" else "np.float32"
    return [
        "def main():",
        '    """Print the trained model\'s output shape for two zero samples shaped like its',
        '    Input."""',
        f"    x = np.zeros((2, *INPUT_SHAPE), dtype={dtype})",
        "    prediction = predict(x)",
        '    print(f"{GRAPH}: output of shape {prediction.shape} for input of shape {x.shape}")',
    ]


def engine_script(
    plan: ModelPlan, dialect: Dialect, imports: Callable[[str], str], train: bool = True
) -> str:
    """The whole engine script: header, imports, constants, model, inference, metrics, loop."""
    run = mode(plan, train)
    metrics = [] if run == "predict" else [*metric_functions(plan, dialect), "", ""]
    if run == "predict":
        tail = [*predict_main(plan), "", "", 'if __name__ == "__main__":', "    main()"]
    elif run == "train":
        tail = [
            *train_function(plan, dialect),
            "",
            "",
            *save_function(dialect),
            "",
            "",
            'if __name__ == "__main__":',
            "    trained, _ = train()",
            "    save_weights(trained, weights_path())",
        ]
    else:
        tail = [
            *evaluate_main(plan, _datasets(plan, train=False), "evaluate(build_model(), val_set)"),
            "",
            "",
            'if __name__ == "__main__":',
            "    main()",
        ]
    body = [
        *constants(plan, dialect),
        "",
        "",
        *model_section(plan, dialect),
        "",
        "",
        *metrics,
        *tail,
    ]
    code = "\n".join(body) + "\n"
    return "\n".join(header(dialect, run)) + "\n" + imports(code) + "\n\n" + code
