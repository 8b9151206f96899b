"""Step-through: one node at a time forward, then backward, shown on the canvas and tensor view."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.graph.document import GraphDocument
from app.graph.specs import Category, Role, get_spec
from app.graph.stepper import Stepper
from app.ui.canvas.scene import GraphScene
from app.ui.document_holder import DocumentHolder
from app.ui.training.canvas_overlay import CanvasOverlay
from app.ui.training.tensor_data import TensorEntry, is_token_array
from app.ui.training.tensor_view import TensorView
from engine.backend import to_numpy


def node_title(document: GraphDocument, node_id: str) -> str:
    """``Linear 'hidden'``: the node's type title and its label (or id)."""
    node = document.nodes.get(node_id)
    if node is None:
        return f"'{node_id}'"
    return f"{get_spec(node.type_id).title} '{node.label or node_id}'"


def is_data_node(document: GraphDocument, node_id: str) -> bool:
    """Whether a node is of the Data category (its samples may be pictures)."""
    node = document.nodes.get(node_id)
    return node is not None and get_spec(node.type_id).category == Category.DATA


def stepper_entries(stepper: Stepper, document: GraphDocument, node_id: str) -> list[TensorEntry]:
    """The node's output ports and parameters, each with its value and gradient so far.

    Token indices carry the dataset's vocabulary (shown as characters), samples carry the
    batch's classes (pictures are captioned with them), and the Output node offers its
    prediction against the batch's targets.
    """
    image = is_data_node(document, node_id)
    dataset = getattr(stepper.program, "dataset", None)
    vocab = getattr(dataset, "vocab", None)
    vocab = tuple(vocab) if vocab else None
    targets = np.asarray(stepper.batch[1])
    values, grads = stepper.value(node_id), stepper.grad(node_id)
    params, pgrads = stepper.params(node_id), stepper.param_grads(node_id)
    entries = [
        TensorEntry(
            port,
            values[port],
            grads.get(port),
            image=image,
            vocab=vocab if is_token_array(values[port]) else None,
            labels=_labels(targets, values[port], dataset),
        )
        for port in values
    ]
    entries += [TensorEntry(name, params[name], pgrads.get(name), is_param=True) for name in params]
    entries += _attention(stepper, node_id, values)
    node = document.nodes.get(node_id)
    if node is not None and get_spec(node.type_id).role is Role.OUTPUT:
        entries += _prediction(stepper, document, node_id, targets, vocab)
    return entries


def _attention(stepper: Stepper, node_id: str, values: dict[str, Any]) -> list[TensorEntry]:
    """The attention weights of an attention node's forward, (N, heads, T, S): the head picker
    chooses the head, the picture is its T×S map (rows: queries, columns: keys), its axes
    labelled with the sample's characters when the batch is text of that length."""
    module = stepper.program.modules.get(node_id)
    weights = getattr(module, "last_attention", None) if values else None
    if weights is None:
        return []
    array = np.array(to_numpy(weights))
    vocab = tuple(getattr(getattr(stepper.program, "dataset", None), "vocab", None) or ())
    inputs = np.asarray(stepper.batch[0])
    text = bool(vocab) and is_token_array(inputs) and array.ndim == 4
    fits = text and inputs.shape == (array.shape[0], array.shape[2]) == array.shape[::3]
    tokens, chars = (inputs, vocab) if fits else (None, None)
    return [TensorEntry("attention (per head)", array, heads=True, tokens=tokens, vocab=chars)]


def _labels(targets: np.ndarray, value: np.ndarray, dataset: Any) -> np.ndarray | None:
    """The batch's classes when they label the samples of ``value`` one to one."""
    if getattr(dataset, "task", None) != "classification" or targets.ndim != 1:
        return None
    if value.ndim < 2 or value.shape[0] != targets.shape[0] or not is_token_array(targets):
        return None
    return targets


def _prediction(
    stepper: Stepper,
    document: GraphDocument,
    node_id: str,
    targets: np.ndarray,
    vocab: tuple[str, ...] | None,
) -> list[TensorEntry]:
    """The Output node's input (the prediction) against the batch's targets, once computed."""
    edge = document.input_edge(node_id, "x")
    if edge is None:
        return []
    pred = stepper.value(edge.src).get(edge.src_port)
    if pred is None:
        return []
    grad = stepper.grad(edge.src).get(edge.src_port)
    return [TensorEntry("prediction vs target", pred, grad, vocab=vocab, target=targets)]


class StepThrough:
    """The step-through state machine over a ``Session.stepper()``.

    ``forward()`` runs the next node; ``backward()`` (once the forward pass reached the end,
    or at once: the stepper finishes the forward pass first) propagates the gradient through
    the next node in reverse order. Each step highlights the node and its outgoing wires and
    shows its tensors; ``show_node`` shows any node's last value and gradient.
    """

    def __init__(
        self,
        holder: DocumentHolder,
        scene: GraphScene,
        overlay: CanvasOverlay,
        tensor_view: TensorView,
    ) -> None:
        self.holder, self.scene = holder, scene
        self.overlay = overlay
        self.blocks = overlay.blocks
        self.tensor_view = tensor_view
        self.stepper: Stepper | None = None

    @property
    def active(self) -> bool:
        """Whether a step-through is under way."""
        return self.stepper is not None

    def start(self, stepper: Stepper) -> None:
        """Begin stepping with a fresh stepper."""
        self.stepper = stepper

    def can_forward(self) -> bool:
        """Whether Step Forward has a node left to run."""
        if self.stepper is None:
            return True
        state = self.stepper.state
        return state.phase in ("idle", "forward") and state.index < state.total

    def can_backward(self) -> bool:
        """Whether Step Backward has a node left (after the forward pass reached the loss)."""
        if self.stepper is None:
            return False
        state = self.stepper.state
        forward_done = state.phase == "forward" and state.index == state.total
        return forward_done or state.phase == "backward"

    def forward(self) -> str:
        """Run the next node forward; returns the status text."""
        assert self.stepper is not None
        result = self.stepper.forward_step()
        self._show(result.node_id, "value")
        return self.position()

    def backward(self) -> str:
        """Propagate through the next node backward; returns the status text."""
        assert self.stepper is not None
        result = self.stepper.backward_step()
        self._show(result.node_id, "gradient")
        return self.position()

    def reset(self) -> None:
        """Leave the step-through: no highlight, empty tensor view."""
        self.stepper = None
        self.overlay.highlight(None)
        self.tensor_view.clear()

    def position(self) -> str:
        """``forward 4/9: Linear 'hidden'`` (``backward`` counts the nodes done backward)."""
        if self.stepper is None:
            return ""
        state = self.stepper.state
        phase = "forward" if state.phase in ("idle", "forward") else "backward"
        where = self.blocks.title(state.node_id) if state.node_id else "start"
        text = f"{phase} {state.index}/{state.total}: {where}"
        if state.phase == "done":
            text += " (backward pass complete)"
        return text

    def show_node(self, node_id: str) -> bool:
        """Show the last value and gradient of a node the canvas shows (a block node: the
        node giving its output); False when stepping has not reached it."""
        if self.stepper is None:
            return False
        flat_id = self.blocks.flat_id(node_id)
        entries = stepper_entries(self.stepper, self.blocks.document(), flat_id)
        if not entries or all(e.value is None for e in entries if not e.is_param):
            return False
        self.tensor_view.show_tensors(self.blocks.title(flat_id), entries)
        return True

    def _show(self, node_id: str, mode: str) -> None:
        """Show step ``node_id`` (a flat id): open the block it is in, mark it, show its
        tensors."""
        assert self.stepper is not None
        self.blocks.reveal(node_id)
        self.overlay.highlight(node_id)
        self.overlay.bring_into_view(node_id)
        verb = "output" if mode == "value" else "gradient at"
        title = f"{verb} {self.blocks.title(node_id)}"
        self.tensor_view.show_tensors(
            title, stepper_entries(self.stepper, self.blocks.document(), node_id), mode=mode
        )
