"""Step through one batch node by node: the forward pass in execution order, then the backward
pass in reverse, each backward step propagating through the ops the node created.

The backward pass is one ``engine.autograd.backward_steps`` generator paused between nodes, so
stepping to the end leaves exactly the gradients a plain ``loss.backward()`` gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from app.graph.compile import Program, Values
from app.graph.errors import GraphError
from engine.autograd import BackwardStep, backward_steps
from engine.backend import to_numpy

Phase = Literal["idle", "forward", "backward", "done"]


@dataclass(frozen=True)
class StepResult:
    """What one step did: the node, and its output values (forward) or gradients (backward).

    ``grads`` holds the gradient that reached each output port and each parameter (by the
    parameter's name in the node's module); ports or parameters no gradient reached are absent.
    """

    node_id: str
    values: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class StepperState:
    """Where the stepper stands.

    ``index`` counts the steps done in the current phase (of ``total`` nodes); ``node_id`` is the
    node of the latest step (None when idle).
    """

    phase: Phase
    index: int
    total: int
    node_id: str | None


class Stepper:
    """Run a compiled graph one node at a time on one batch.

    Parameters
    ----------
    program
        The compiled graph.
    batch
        ``(x, y)`` NumPy arrays fed to the data node.
    feeds
        Arrays for Input nodes, by node id.
    """

    def __init__(
        self,
        program: Program,
        batch: tuple[np.ndarray, np.ndarray],
        feeds: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.program = program
        self.batch = batch
        self.feeds = dict(feeds or {})
        self.order: list[str] = list(program.order)
        self.reset()

    def reset(self) -> None:
        """Forget every value and gradient; the next step is the first forward step."""
        self._values: Values = {}
        self._forward_done = 0
        self._backward_done = 0
        self._steps: Iterator[BackwardStep] | None = None
        self._pending: Counter[Any] = Counter()
        self._last: str | None = None
        self.program.train()
        for tensor in self.program.parameters():
            tensor.grad = None

    @property
    def state(self) -> StepperState:
        """The phase, the steps done in it, the node count and the latest node."""
        total = len(self.order)
        if self._steps is not None:
            phase: Phase = "done" if self._backward_done == total else "backward"
            return StepperState(phase, self._backward_done, total, self._last)
        phase = "idle" if self._forward_done == 0 else "forward"
        return StepperState(phase, self._forward_done, total, self._last)

    # -- forward ----------------------------------------------------------------------------
    def forward_step(self) -> StepResult:
        """Run the next node of the forward pass; returns its id and output values.

        Raises
        ------
        GraphError
            When the forward pass is already complete.
        """
        if self._forward_done == len(self.order):
            raise GraphError("the forward pass is complete; step backward or reset")
        node_id = self.order[self._forward_done]
        self._values[node_id] = self.program.run_node(node_id, self._values, self.batch, self.feeds)
        self._forward_done += 1
        self._last = node_id
        return StepResult(node_id, values=self.value(node_id))

    # -- backward ---------------------------------------------------------------------------
    def backward_step(self) -> StepResult:
        """Propagate the gradient through the next node, in reverse execution order.

        The first backward step finishes the forward pass if steps remain. Returns the node's
        id and the gradients that reached its outputs and parameters.

        Raises
        ------
        GraphError
            When the backward pass is already complete.
        """
        if self._steps is None:
            while self._forward_done < len(self.order):
                self.forward_step()
            self._start_backward()
        if self._backward_done == len(self.order):
            raise GraphError("the backward pass is complete; reset to step again")
        node_id = self.order[-1 - self._backward_done]
        assert self._steps is not None
        while self._pending[node_id] > 0:
            step = next(self._steps, None)
            if step is None:
                break
            self._pending[step.tensor.tag] -= 1
        self._backward_done += 1
        if self._backward_done == len(self.order):
            for _ in self._steps:  # ops outside every node, if any
                pass
        self._last = node_id
        return StepResult(node_id, grads={**self.grad(node_id), **self.param_grads(node_id)})

    def _start_backward(self) -> None:
        """Count the ops of each node on the loss's graph and start the backward generator."""
        loss = self.program.loss(self._values)
        if not loss.autograd:
            raise GraphError("nothing to differentiate: the loss depends on no parameter")
        self._pending = _ops_per_tag(loss)
        self._steps = backward_steps(loss)

    # -- inspection -------------------------------------------------------------------------
    def value(self, node_id: str) -> dict[str, np.ndarray]:
        """The node's outputs from the forward pass so far (empty before it ran)."""
        return {port: _array(t) for port, t in self._values.get(node_id, {}).items()}

    def grad(self, node_id: str) -> dict[str, np.ndarray]:
        """The gradient that reached each of the node's outputs (ports without one are absent)."""
        outputs = self._values.get(node_id, {})
        return {port: _array(t.grad) for port, t in outputs.items() if _has_grad(t)}

    def params(self, node_id: str) -> dict[str, np.ndarray]:
        """The node's parameters, by name."""
        return {name: _array(p) for name, p in self.program.node_parameters(node_id).items()}

    def param_grads(self, node_id: str) -> dict[str, np.ndarray]:
        """The gradient of each of the node's parameters (absent before one reached it)."""
        named = self.program.node_parameters(node_id).items()
        return {name: _array(p.grad) for name, p in named if p.grad is not None}


def _ops_per_tag(root: Any) -> Counter[Any]:
    """How many ops of ``root``'s graph each tag owns (the ops ``backward_steps`` visits)."""
    counts: Counter[Any] = Counter()
    seen: set[int] = set()
    stack = [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if tensor.autograd and tensor.creators:
            counts[tensor.tag] += 1
            stack.extend(c for c in tensor.creators if c.autograd)
    return counts


def _has_grad(tensor: Any) -> bool:
    return getattr(tensor, "grad", None) is not None


def _array(tensor: Any) -> np.ndarray:
    return to_numpy(tensor.data)
