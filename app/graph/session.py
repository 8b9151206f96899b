"""Training, evaluation and step-through of a compiled graph, as a Qt-free event generator.

``Session(doc).train()`` yields a :class:`StepMetrics` per batch, an :class:`EpochMetrics` per
epoch and one :class:`TrainingFinished` at the end. A ``threading.Event`` passed as ``stop`` is
checked between steps, so a worker thread can cancel; :meth:`Session.set_learning_rate` may be
called from any thread and takes effect at the next step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

import engine
from app.graph.compile import Program, Values, compile_document
from app.graph.errors import GraphError
from app.graph.metrics import EpochMetrics, Event, StepMetrics, TrainingFinished, trained_message
from app.graph.training_options import make_schedule
from engine.backend import get_array_module, to_numpy
from engine.data import DataLoader, Dataset, DatasetError, split

if TYPE_CHECKING:
    from app.graph.document import GraphDocument, TrainingSettings
    from app.graph.stepper import Stepper

__all__ = [
    "EpochMetrics",
    "Event",
    "Session",
    "StepMetrics",
    "TrainingFinished",
]


class Session:
    """Train, evaluate and step through one compiled graph.

    Parameters
    ----------
    program_or_doc
        A :class:`~app.graph.compile.Program`, or a document to compile.

    Raises
    ------
    GraphError
        When the document has errors, or has no dataset or loss to train with.
    """

    def __init__(self, program_or_doc: Program | GraphDocument) -> None:
        program = (
            program_or_doc
            if isinstance(program_or_doc, Program)
            else compile_document(program_or_doc)
        )
        if program.dataset is None:
            raise GraphError("the graph has no Dataset node; add one to train it")
        if not program.loss_nodes:
            raise GraphError("the graph has no loss node; add one to train it")
        self.program = program
        self.settings = program.settings
        if self.settings.device != "cpu":
            program.to(self.settings.device)
        try:
            self.train_set, self.val_set = _split(program.dataset, self.settings)
        except DatasetError as error:
            raise GraphError(f"node '{program.data_node}': {error}", program.data_node) from None
        self.loader = DataLoader(
            self.train_set, self.settings.batch_size, shuffle=True, seed=self.settings.seed
        )
        self.optimizer = _make_optimizer(program.parameters(), self.settings)
        self.schedule = make_schedule(self.optimizer, self.settings)
        if self.settings.early_stopping and self.val_set is None:
            raise GraphError(
                "early stopping watches the validation loss; set a validation split above 0"
            )
        self.best_val_loss, self.stale_epochs = math.inf, 0
        self.epochs_done = 0
        self.classification = is_classification(program)
        self._node_params: list[tuple[str, list[Any]]] | None = None
        self.norms = NormSchedule()
        self._lr_lock = threading.Lock()
        self._pending_lr: float | None = None

    # -- training ---------------------------------------------------------------------------
    def set_learning_rate(self, lr: float) -> None:
        """Use learning rate ``lr`` from the next step on (safe to call from another thread)."""
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        with self._lr_lock:
            self._pending_lr = float(lr)

    def train(
        self, epochs: int | None = None, stop: threading.Event | None = None
    ) -> Iterator[Event]:
        """Train for ``epochs`` more epochs (the settings' count when None), yielding events.

        The last event is always a :class:`TrainingFinished`: ``'finished'``, ``'stopped'``
        (``stop`` was set) or ``'nan'`` (naming the first node whose output went non-finite, or
        whose gradient did on a step that measured the norms: then before the update).
        """
        total = self.settings.epochs if epochs is None else int(epochs)
        started = time.perf_counter()
        self.program.train()
        for _ in range(total):
            epoch = self.epochs_done
            outcome = yield from self._epoch(epoch, stop, started)
            if isinstance(outcome, TrainingFinished):
                yield outcome
                return
            self.epochs_done += 1
            if self.schedule is not None:
                self.schedule.step()
            metrics = self.evaluate() if self.val_set is not None else {}
            self.program.train()
            yield EpochMetrics(
                epoch,
                outcome,
                metrics.get("loss"),
                metrics.get("accuracy"),
                time.perf_counter() - started,
            )
            val_loss = metrics.get("loss")
            if val_loss is not None and not math.isfinite(val_loss):
                yield self._nan_in_validation(val_loss)
                return
            early = self._early_stop(metrics.get("loss"))
            if early is not None:
                yield early
                return
        yield TrainingFinished("finished", message=trained_message(total))

    def _early_stop(self, val_loss: float | None) -> TrainingFinished | None:
        """A finished event when the validation loss has not improved for ``early_stopping``
        epochs in a row (None: go on)."""
        patience = self.settings.early_stopping
        if not patience or val_loss is None:
            return None
        if val_loss < self.best_val_loss:
            self.best_val_loss, self.stale_epochs = val_loss, 0
            return None
        self.stale_epochs += 1
        if self.stale_epochs < patience:
            return None
        return TrainingFinished(
            "finished",
            message=f"stopped early after epoch {self.epochs_done}: the validation loss has not "
            f"improved for {patience} epoch{'s' if patience > 1 else ''} "
            f"(best {self.best_val_loss:.4g})",
        )

    def _epoch(
        self, epoch: int, stop: threading.Event | None, started: float
    ) -> Generator[StepMetrics, None, float | TrainingFinished]:
        """One pass over the training batches; returns the mean loss, or why it ended early."""
        loss_sum, seen = 0.0, 0
        steps = len(self.loader)
        for step, (x, y) in enumerate(self.loader):
            if stop is not None and stop.is_set():
                return TrainingFinished("stopped", message=f"stopped in epoch {epoch + 1}")
            tick = time.perf_counter()
            with np.errstate(all="ignore"):  # non-finite values are reported, not warned
                outcome = self._step(x, y, self.norms.due(step, steps))
            if isinstance(outcome, TrainingFinished):
                return outcome
            loss, out_norms, param_norms = outcome
            loss_sum += loss * len(x)
            seen += len(x)
            now = time.perf_counter()
            self.norms.step_took(now - tick)
            yield StepMetrics(
                epoch, step, steps, loss, out_norms, param_norms,
                len(x) / max(now - tick, 1e-9), now - started,
            )  # fmt: skip
        return loss_sum / max(seen, 1)

    def _step(
        self, x: np.ndarray, y: np.ndarray, measure: bool = True
    ) -> tuple[float, dict[str, float], dict[str, float]] | TrainingFinished:
        """One optimisation step; a TrainingFinished('nan') when something went non-finite.

        ``measure`` computes the gradient norms; otherwise the latest ones are repeated.
        """
        with self._lr_lock:
            if self._pending_lr is not None:
                self._use_learning_rate(self._pending_lr)
                self._pending_lr = None
        self.optimizer.zero()
        values = self.program.forward(x, y)
        loss_tensor = self.program.loss(values)
        loss = float(to_numpy(loss_tensor.data).sum())
        if not math.isfinite(loss):
            return self._nan_forward(values, loss)
        loss_tensor.backward()
        if self.settings.grad_clip:
            engine.clip_grad_norm(self.optimizer.parameters, self.settings.grad_clip)
        if not measure:
            self.optimizer.step(zero=False)
            return (loss, *self.norms.latest)
        started = time.perf_counter()
        out_norms, param_norms = self.gradient_norms(values)
        self.norms.measured(out_norms, param_norms, time.perf_counter() - started)
        bad = next(
            (n for n, v in {**out_norms, **param_norms}.items() if not math.isfinite(v)), None
        )
        if bad is not None:
            return TrainingFinished(
                "nan", bad, f"the gradient at node '{bad}' went non-finite (loss {loss:.4g}); "
                "lower the learning rate",
            )  # fmt: skip
        self.optimizer.step(zero=False)
        return loss, out_norms, param_norms

    def _use_learning_rate(self, lr: float) -> None:
        """Set the base learning rate; a schedule keeps its shape around the new rate."""
        if self.schedule is None:
            self.optimizer.alpha = lr
        else:
            self.schedule.base_lr = lr
            self.optimizer.alpha = self.schedule.lr_at(self.schedule.last_epoch)

    def _nan_forward(self, values: Values, loss: float) -> TrainingFinished:
        """Name the first node, in execution order, whose output holds NaN or Inf."""
        found = self._first_non_finite(values)
        if found is None:
            return TrainingFinished("nan", self.program.loss_nodes[0], f"the loss went {loss}")
        node_id, port = found
        return TrainingFinished(
            "nan", node_id,
            f"the output '{port}' of node '{node_id}' went non-finite "
            f"(loss {loss}); lower the learning rate or check the data",
        )  # fmt: skip

    def _first_non_finite(self, values: Values) -> tuple[str, str] | None:
        """``(node_id, port)`` of the first output, in execution order, holding NaN or Inf."""
        for node_id in self.program.order:
            for port, tensor in values[node_id].items():
                data = getattr(tensor, "data", None)
                if data is None or data.dtype.kind != "f":
                    continue
                if not bool(get_array_module(data).isfinite(data).all()):
                    return node_id, port
        return None

    def _nan_in_validation(self, val_loss: float) -> TrainingFinished:
        """Why the validation loss is not finite: the first non-finite node output on the first
        validation batch holding one (the training batches were fine)."""
        assert self.val_set is not None
        size = max(self.settings.batch_size, 256)
        self.program.eval()
        try:
            with engine.no_grad(), np.errstate(all="ignore"):
                for index, (x, y) in enumerate(DataLoader(self.val_set, size, shuffle=False)):
                    found = self._first_non_finite(self.program.forward(x, y))
                    if found is not None:
                        node_id, port = found
                        first = index * size
                        return TrainingFinished(
                            "nan", node_id,
                            f"the validation loss is not finite: on validation samples "
                            f"{first}-{first + len(x) - 1} the output '{port}' of node "
                            f"'{node_id}' holds NaN or Inf; check the data (the training "
                            "batches were finite)",
                        )  # fmt: skip
        finally:
            self.program.train()
        return TrainingFinished(
            "nan", self.program.loss_nodes[0], f"the validation loss went {val_loss}"
        )

    def gradient_norms(self, values: Values) -> tuple[dict[str, float], dict[str, float]]:
        """L2 norms of the gradient at each node's outputs and of each node's parameters.

        Nodes no gradient reached are left out. On the GPU the squared sums stay on the device
        until one transfer at the end.
        """
        if self._node_params is None:
            self._node_params = [
                (node_id, list(self.program.node_parameters(node_id).values()))
                for node_id in self.program.order
            ]
        outputs: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for node_id, tensors in self._node_params:
            total = _square_sums([t.grad for t in values[node_id].values()])
            if total is not None:
                outputs[node_id] = total
            if tensors:
                total = _square_sums([t.grad for t in tensors])
                if total is not None:
                    params[node_id] = total
        return _sqrt_all(outputs), _sqrt_all(params)

    # -- evaluation and weights -------------------------------------------------------------
    def evaluate(self, dataset: Dataset | None = None) -> dict[str, float | None]:
        """Loss and accuracy on ``dataset`` (the validation split when None; else training set).

        Returns ``{"loss": float, "accuracy": float or None, "samples": int}``; accuracy is
        None for regression.
        """
        dataset = dataset or self.val_set or self.train_set
        loader = DataLoader(dataset, max(self.settings.batch_size, 256), shuffle=False)
        self.program.eval()
        loss_sum, correct, counted, seen = 0.0, 0, 0, 0
        with engine.no_grad():
            for x, y in loader:
                values = self.program.forward(x, y)
                loss_sum += float(to_numpy(self.program.loss(values).data).sum()) * len(x)
                seen += len(x)
                hits = _hits(self.program.prediction(values), y) if self.classification else None
                if hits is not None:
                    correct, counted = correct + hits[0], counted + hits[1]
        self.program.train()
        accuracy = correct / counted if counted else None
        return {"loss": loss_sum / max(seen, 1), "accuracy": accuracy, "samples": seen}

    def weights(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer as NumPy arrays keyed ``"node_id.param"``."""
        return self.program.state_dict()

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load weights from :meth:`weights` (or ``io.load_weights``); GraphError if they misfit."""
        self.program.load_state_dict(weights)

    def stepper(self, batch: tuple[np.ndarray, np.ndarray] | None = None) -> Stepper:
        """A :class:`~app.graph.stepper.Stepper` over ``batch`` (the first training batch)."""
        from app.graph.stepper import Stepper

        if batch is None:
            x, y = next(iter(DataLoader(self.train_set, self.settings.batch_size, shuffle=False)))
            batch = (x, y)
        return Stepper(self.program, batch)


class NormSchedule:
    """Which steps measure the gradient norms: every step, unless that costs more than
    ``budget`` of the step time (tiny models), then every ``every``-th step and the last of
    each epoch, the latest norms being repeated in between. Set ``auto = False`` to fix
    ``every``.
    """

    WINDOW = 20  # measured steps between two re-estimates

    def __init__(self, budget: float = 0.05) -> None:
        self.budget = budget
        self.every = 1
        self.auto = True
        self.latest: tuple[dict[str, float], dict[str, float]] = ({}, {})
        self._norm_s = self._step_s = 0.0
        self._samples = 0
        self._pending = 0.0

    def due(self, step: int, steps: int) -> bool:
        """Whether step ``step`` of an epoch of ``steps`` measures the norms."""
        return step % self.every == 0 or step == steps - 1

    def measured(self, outputs: dict[str, float], params: dict[str, float], took: float) -> None:
        """Remember the norms of this step and what measuring them cost."""
        self.latest = (outputs, params)
        self._pending = took

    def step_took(self, seconds: float) -> None:
        """Account one whole step; re-estimate ``every`` after a window of measured steps."""
        if not self.auto or not self._pending:
            return
        self._norm_s += self._pending
        self._step_s += seconds - self._pending
        self._pending = 0.0
        self._samples += 1
        if self._samples >= self.WINDOW:
            rest = max(self._step_s, 1e-9)  # both sums cover the same measured steps
            self.every = max(1, math.ceil(self._norm_s / (self.budget * rest)))
            self._norm_s = self._step_s = 0.0
            self._samples = 0


def _split(dataset: Dataset, settings: TrainingSettings) -> tuple[Dataset, Dataset | None]:
    """Training and validation sets from the settings' ``val_split`` (None when 0)."""
    if not settings.val_split:
        return dataset, None
    return split(dataset, settings.val_split, seed=settings.seed)


def _make_optimizer(
    parameters: list[engine.Tensor], settings: TrainingSettings
) -> engine.optim.Optimizer:
    """The optimizer the settings name, over ``parameters``."""
    if not parameters:
        raise GraphError("the graph has no trainable parameters; add a layer with weights")
    lr, decay = settings.learning_rate, settings.weight_decay
    if settings.optimizer == "adam":
        return engine.Adam(parameters, alpha=lr, weight_decay=decay)
    if settings.optimizer == "adamw":
        return engine.AdamW(parameters, alpha=lr, weight_decay=decay)
    if settings.optimizer == "sgd":
        return engine.SGD(parameters, alpha=lr, momentum=settings.momentum, weight_decay=decay)
    raise GraphError(f"unknown optimizer {settings.optimizer!r}; use 'sgd', 'adam' or 'adamw'")


def _square_sums(grads: list[Any]) -> Any:
    """Sum of the squares of every gradient given (None entries skipped); None if all are."""
    total = None
    for grad in grads:
        if grad is not None:
            flat = grad.data.reshape(-1)
            square = flat.dot(flat)
            total = square if total is None else total + square
    return total


def _sqrt_all(squares: dict[str, Any]) -> dict[str, float]:
    """Square roots as Python floats, with one device transfer for GPU values."""
    if not squares:
        return {}
    first = next(iter(squares.values()))
    if isinstance(first, np.generic):
        return {k: math.sqrt(v) if v >= 0 else math.nan for k, v in squares.items()}
    xp = get_array_module(first)
    roots = np.sqrt(to_numpy(xp.stack(list(squares.values()))).astype(np.float64))
    return dict(zip(squares, (float(r) for r in roots), strict=True))


def is_classification(program: Program) -> bool:
    """Whether accuracy means something: the Output node's ``task``, else the dataset's."""
    if program.output_node is not None:
        task = program.nodes[program.output_node].params.get("task", "auto")
        if task != "auto":
            return bool(task == "classification")
    return program.dataset is not None and program.dataset.task != "regression"


def _hits(pred: Any, y: np.ndarray) -> tuple[int, int] | None:
    """(correct, counted) predictions of a classification batch; None when not meaningful."""
    if pred is None:
        return None
    scores = to_numpy(pred.data)
    if scores.shape[-1] == 1 and scores.ndim == y.ndim + 1:
        guess = (scores[..., 0] > 0).astype(y.dtype)  # one logit: binary classification
    elif scores.ndim == y.ndim + 1:
        guess = scores.argmax(axis=-1)
    else:
        return None
    return int((guess == y).sum()), int(y.size)
