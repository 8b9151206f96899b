"""Turn a valid :class:`~app.graph.document.GraphDocument` into a runnable :class:`Program`.

Each node becomes the engine object its spec's ``build`` hook returns (or nothing, for
parameter-free nodes); the program runs the nodes in the topological order validation found, and
every op a node creates is tagged with the node's id (``engine.tagging``), so per-node values and
gradients can be read after a step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import engine
from app.graph.blocks.flatten import flatten
from app.graph.errors import GraphError
from app.graph.specs import get_spec
from app.graph.specs.base import NodeSpec, Role, Shape
from app.graph.validate import Diagnostic, ValidationResult, validate

if TYPE_CHECKING:
    from app.graph.document import GraphDocument, TrainingSettings
    from engine.data import Dataset

Values = dict[str, dict[str, engine.Tensor]]  # node id -> output port -> engine Tensor


class CompileError(GraphError):
    """The document has errors; ``diagnostics`` lists every one (the message lists them too)."""

    def __init__(
        self, message: str, diagnostics: list[Diagnostic], node_id: str | None = None
    ) -> None:
        super().__init__(message, node_id)
        self.diagnostics = diagnostics


@dataclass
class CompiledNode:
    """One node ready to run: its spec, checked parameters, engine module and input wiring."""

    id: str
    spec: NodeSpec
    params: dict[str, Any]
    module: Any | None
    inputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # port -> (src, src port)
    in_shapes: dict[str, Shape] = field(default_factory=dict)
    out_shapes: dict[str, Shape] = field(default_factory=dict)

    @property
    def role(self) -> Role:
        """How the runtime treats the node (data, layer, loss, ...)."""
        return self.spec.role


class Program:
    """A compiled graph: engine objects per node, run in topological order.

    Attributes
    ----------
    order : list of str
        Node ids in execution order.
    modules : dict
        Node id -> engine ``Layer`` (None for nodes without one).
    nodes : dict
        Node id -> :class:`CompiledNode`.
    settings : TrainingSettings
        The document's training settings (a copy).
    dataset : engine.data.Dataset or None
        What the data node reads (loaded before the modules are built).
    """

    def __init__(
        self,
        nodes: dict[str, CompiledNode],
        settings: TrainingSettings,
        validation: ValidationResult,
        dataset: Dataset | None = None,
    ) -> None:
        self.nodes = nodes
        self.order = list(nodes)
        self.modules = {node_id: node.module for node_id, node in nodes.items()}
        self.settings = settings
        self.validation = validation
        self.device = "cpu"
        self.data_node = _single(nodes, Role.DATA)
        self.loss_nodes = [n for n, c in nodes.items() if c.role is Role.LOSS]
        self.output_node = _single(nodes, Role.OUTPUT)
        self.dataset = dataset

    # -- parameters -------------------------------------------------------------------------
    def named_parameters(self) -> Iterator[tuple[str, Any]]:
        """``("node_id.param", Tensor)`` for every trainable parameter, in execution order."""
        for node_id, module in self.modules.items():
            if module is not None:
                for name, tensor in module.named_parameters():
                    yield f"{node_id}.{name}", tensor

    def parameters(self) -> list[Any]:
        """Every trainable parameter Tensor, in execution order."""
        return [tensor for _, tensor in self.named_parameters()]

    def node_parameters(self, node_id: str) -> dict[str, Any]:
        """The parameters of one node, by their name inside the node's module."""
        module = self.modules.get(node_id)
        return dict(module.named_parameters()) if module is not None else {}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every module's state (parameters and buffers) keyed ``"node_id.name"``."""
        state: dict[str, np.ndarray] = {}
        for node_id, module in self.modules.items():
            if module is not None:
                for name, array in module.state_dict().items():
                    state[f"{node_id}.{name}"] = np.asarray(array)
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Load weights saved by :meth:`state_dict`; unknown or missing keys raise GraphError."""
        expected = set(self.state_dict())
        unknown = sorted(set(state) - expected)
        missing = sorted(expected - set(state))
        if unknown or missing:
            parts = [f"unknown {', '.join(unknown)}"] if unknown else []
            parts += [f"missing {', '.join(missing)}"] if missing else []
            raise GraphError("weights do not fit this graph: " + "; ".join(parts))
        for node_id, module in self.modules.items():
            if module is None:
                continue
            prefix = node_id + "."
            own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            try:
                module.load_state_dict(own)
            except Exception as error:
                raise GraphError(f"weights of node '{node_id}': {error}", node_id) from error

    # -- modes and devices ------------------------------------------------------------------
    def train(self, mode: bool = True) -> None:
        """Put every module in training mode (dropout active, batch statistics)."""
        for module in self.modules.values():
            if module is not None:
                module.train() if mode else module.eval()

    def eval(self) -> None:
        """Put every module in evaluation mode."""
        self.train(False)

    def to(self, device: str) -> None:
        """Move every module to ``device`` ("cpu" or "gpu")."""
        for module in self.modules.values():
            if module is not None:
                module.to(device)
        self.device = device

    # -- running ----------------------------------------------------------------------------
    def tensor(self, array: np.ndarray) -> engine.Tensor:
        """An engine Tensor (no gradient) holding ``array`` on the program's device."""
        return engine.Tensor(array, device=self.device)

    def run_node(
        self,
        node_id: str,
        values: Values,
        batch: tuple[np.ndarray, np.ndarray],
        feeds: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """Run one node on the outputs already in ``values``; returns its outputs by port.

        The data node reads ``batch``; an Input node reads ``feeds[node_id]``.
        """
        node = self.nodes[node_id]
        if node.role is Role.DATA:
            inputs = {"x": self.tensor(batch[0]), "y": self.tensor(batch[1])}
        elif node.role is Role.INPUT:
            if feeds is None or node_id not in feeds:
                raise GraphError(
                    f"Input node '{node_id}' has no batch fed to it; training reads its batches "
                    "from a Dataset node",
                    node_id,
                )
            inputs = {"x": self.tensor(feeds[node_id])}
        else:
            inputs = {port: values[src][sport] for port, (src, sport) in node.inputs.items()}
        if node.spec.forward is None:
            raise GraphError(f"node '{node_id}' ({node.spec.title}) cannot run", node_id)
        with engine.tagging(node_id):
            return node.spec.forward(node.module, node.params, inputs)

    def forward(
        self, x: np.ndarray, y: np.ndarray, feeds: Mapping[str, np.ndarray] | None = None
    ) -> Values:
        """Run every node on one batch; returns node id -> output port -> Tensor."""
        values: Values = {}
        for node_id in self.order:
            values[node_id] = self.run_node(node_id, values, (x, y), feeds)
        return values

    def loss(self, values: Values) -> engine.Tensor:
        """The quantity training minimises: the sum of every loss node's output."""
        if not self.loss_nodes:
            raise GraphError("the graph has no loss node; add one to train it")
        losses = [next(iter(values[node_id].values())) for node_id in self.loss_nodes]
        if len(losses) == 1:
            return losses[0]
        with engine.tagging(self.loss_nodes[-1]):
            total = losses[0]
            for loss in losses[1:]:
                total = total + loss
        return total

    def prediction(self, values: Values) -> engine.Tensor | None:
        """The tensor metrics read: the Output node's input, else the first loss's first input."""
        for node_id in [self.output_node, *self.loss_nodes]:
            if node_id is not None and self.nodes[node_id].inputs:
                src, src_port = next(iter(self.nodes[node_id].inputs.values()))
                return values[src][src_port]
        return None


def _single(nodes: dict[str, CompiledNode], role: Role) -> str | None:
    """The id of the one node with ``role`` (None when absent); two of them is an error."""
    found = [node_id for node_id, node in nodes.items() if node.role is role]
    if len(found) > 1:
        kind = role.value
        raise GraphError(
            f"the graph has {len(found)} {kind} nodes ({', '.join(found)}); keep one", found[1]
        )
    return found[0] if found else None


def raise_if_invalid(result: ValidationResult) -> None:
    """Raise :class:`CompileError` listing every error of a validation result (if any)."""
    errors = result.errors
    if not errors:
        return
    lines = [
        f"  node '{d.node_id}': {d.message}" if d.node_id else f"  {d.message}" for d in errors
    ]
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    raise CompileError(
        f"the graph cannot run; {count}:\n" + "\n".join(lines), errors, errors[0].node_id
    )


def seed_everything(seed: int) -> None:
    """Seed the engine's random number generator (weights, dropout) and NumPy's."""
    np.random.seed(seed)
    manual_seed = getattr(engine, "manual_seed", None)
    if manual_seed is not None:
        manual_seed(seed)


def compile_document(
    document: GraphDocument, validation: ValidationResult | None = None
) -> Program:
    """Build the engine objects of every node of a valid document.

    Parameters
    ----------
    document
        The graph to compile.
    validation
        A result of ``validate(document)`` already at hand (computed when None).

    Returns
    -------
    Program
        Of the flat graph (blocks opened up, :mod:`app.graph.blocks.flatten`, so node ids
        inside blocks are flat ids such as ``res1__conv``); modules built in topological order
        after seeding with the document's seed, so two
        compilations of one document start from the same weights.

    Raises
    ------
    CompileError
        When validation reports errors; the message lists every one with its node.
    """
    result = validation if validation is not None else validate(document)
    raise_if_invalid(result)
    document = flatten(document).document
    dataset = _load_dataset(document, result.order)  # before seeding, as exported scripts do
    seed_everything(document.training.seed)
    nodes: dict[str, CompiledNode] = {}
    for node_id in result.order:
        nodes[node_id] = _compile_node(document, result, node_id)
    settings = dataclasses.replace(document.training)
    return Program(nodes, settings, result, dataset)


def _load_dataset(document: GraphDocument, order: list[str]) -> Dataset | None:
    """The dataset the (first) data node reads, or None without one."""
    for node_id in order:
        spec = get_spec(document.nodes[node_id].type_id)
        if spec.role is Role.DATA and spec.load is not None:
            return spec.load(spec.coerce_params(document.resolved_params(node_id)))
    return None


def _compile_node(document: GraphDocument, result: ValidationResult, node_id: str) -> CompiledNode:
    """Check one node's parameters and build its engine object."""
    node = document.nodes[node_id]
    spec = get_spec(node.type_id)
    params = spec.coerce_params(document.resolved_params(node_id))
    edges = [document.input_edge(node_id, p.name) for p in spec.inputs]
    inputs = {e.dst_port: (e.src, e.src_port) for e in edges if e is not None}
    in_shapes = {port: result.shapes[src] for port, src in inputs.items() if src in result.shapes}
    out_shapes = {
        p.name: result.shapes[(node_id, p.name)]
        for p in spec.outputs
        if (node_id, p.name) in result.shapes
    }
    try:
        module = spec.build(params, in_shapes) if spec.build is not None else None
    except GraphError:
        raise
    except Exception as error:
        raise GraphError(f"node '{node_id}' ({spec.title}): {error}", node_id) from error
    return CompiledNode(node_id, spec, params, module, inputs, in_shapes, out_shapes)
