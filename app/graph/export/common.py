"""What both exporters share: a plan of the model (attribute and variable names, constructor and
forward lines rendered from each spec's code template) and the training settings as constants.

The plan follows the program the editor compiles: the same nodes, built in the same (topological)
order, so an exported script seeded like the editor starts from the same weights.
"""

from __future__ import annotations

import builtins
import dataclasses
import keyword
import os
import re
import unicodedata
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.graph.blocks.flatten import flatten
from app.graph.compile import raise_if_invalid
from app.graph.errors import GraphError
from app.graph.export.code_text import settings_constants
from app.graph.specs import get_spec
from app.graph.specs.base import CodeTemplate, NodeSpec, Role
from app.graph.specs.common import parse_dims
from app.graph.validate import ValidationResult, validate

if TYPE_CHECKING:
    from app.graph.document import GraphDocument, TrainingSettings

Flavor = Literal["engine", "torch"]

# Names the generated code itself uses (the modules it imports among them: a node of that name
# would be bound in ``forward`` and hide the import), and attributes of Layer / nn.Module.
RESERVED = {
    "self", "x", "y", "prediction", "model", "np", "torch", "nn", "data", "epoch",
    "csv", "functools", "os", "sys", "dist", "datasets",
    "optimizer", "loader", "dataset", "forward", "train", "eval", "to", "parameters",
    "named_parameters", "state_dict", "load_state_dict", "training", "zero_grad", "modules",
    "children", "buffers", "cuda", "cpu", "type", "float", "double", "half", "apply", "evaluate",
    "accuracy", "extra_repr", "register_buffer", "add_module", "get_parameters", "num_parameters",
    "named_layers", "requires_grad_", "concat", "stack", "split", "no_grad", "DataLoader",
}  # fmt: skip


@dataclass
class Statement:
    """One forward line: ``target = expression``."""

    target: str
    expression: str
    node_id: str
    needs_y: bool = False  # reads the targets (a loss): skipped when predicting


@dataclass(frozen=True)
class NodeCode:
    """What a node's code templates are filled with: its checked parameters and the values its
    spec's ``template_values`` hook inferred (``derived``), before names and inputs."""

    spec: NodeSpec
    params: Mapping[str, Any]
    derived: Mapping[str, Any]

    @property
    def values(self) -> dict[str, Any]:
        """The parameters overlaid with the inferred values."""
        return {**self.params, **self.derived}


@dataclass
class ModelPlan:
    """Everything an exporter writes, already rendered for one flavor.

    Attributes
    ----------
    attributes
        ``(attribute name, constructor expression)`` in build order.
    support
        Module-level definitions the constructors use (each once), in build order.
    statements
        The forward pass, in execution order.
    inputs
        The forward method's arguments (``x``, ``y``).
    loss, prediction
        The expressions the forward method returns.
    modules
        Attribute name -> node id, for every attribute (where the trained weights go).
    data_params
        The Dataset node's checked parameters (paths as the script reads them).
    y_dependent
        The forward variables computed from the targets ``y``.
    classes
        One class per block definition the graph uses (its lines), inner blocks first; empty
        when the model is written flat.
    nodes, order
        Every written node's template values and the flat graph's order, by flat id.
    notice
        One line saying why a graph with blocks is written flat, without a class per block
        ("" otherwise).
    input_shape, input_dtype
        The shape of one sample and its kind (``"float"``, ``"int"``) when an Input node feeds
        the model instead of a Dataset (None otherwise): the script is then inference only.
    """

    settings: TrainingSettings
    title: str = "model"
    attributes: list[tuple[str, str]] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    inputs: tuple[str, ...] = ("x", "y")
    loss: str = "loss"
    prediction: str = "x"
    dataset_call: str = ""
    input_shape: tuple[int, ...] | None = None
    input_dtype: str = "float"
    task: str = "classification"
    binary: bool = False
    modules: dict[str, str] = field(default_factory=dict)
    data_params: dict[str, Any] = field(default_factory=dict)
    y_dependent: set[str] = field(default_factory=lambda: {"y"})
    classes: list[list[str]] = field(default_factory=list)
    nodes: dict[str, NodeCode] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    notice: str = ""

    @property
    def fed_by_input(self) -> bool:
        """Whether an Input node feeds the model (no data to train on: inference only)."""
        return self.input_shape is not None

    @property
    def prediction_needs_y(self) -> bool:
        """Whether the prediction itself is computed from the targets (no ``predict(x)``)."""
        return self.prediction in self.y_dependent


@dataclass(frozen=True)
class ExportedScript:
    """An exported script: its ``code``, the one-line ``notice`` a user should read (why the
    blocks were written flat; "" when there is nothing to say) and the files written."""

    code: str
    notice: str = ""
    paths: tuple[Path, ...] = ()


def identifier(node_id: str, taken: set[str], reserved: Set[str] = RESERVED) -> str:
    """A Python identifier for ``node_id`` that collides with nothing in ``taken``.

    Examples
    --------
    >>> identifier("dense-1", set())
    'dense_1'
    >>> identifier("x", set())
    'x_node'
    >>> identifier("\uff44ense1", {"dense1"})  # a fullwidth d: Python reads it as "dense1"
    'dense1_2'
    """
    name = unicodedata.normalize("NFKC", node_id)  # as Python reads identifiers
    name = re.sub(r"\W", "_", name).strip("_").lower() or "node"
    if name[0].isdigit():
        name = "n" + name
    if name in reserved or keyword.iskeyword(name) or hasattr(builtins, name):
        name += "_node"
    base, k = name, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


class ScriptRelativePath(str):
    """A data file's path relative to the exported script; written into the script as an
    expression that finds the file beside the script, wherever it is run from."""

    def __repr__(self) -> str:
        return f"str(Path(__file__).resolve().parent / {self.replace(os.sep, '/')!r})"


def script_paths(
    document: GraphDocument, node_id: str, params: dict[str, Any], script_dir: str | None
) -> dict[str, Any]:
    """``params`` with each file path the graph gives relative to its own folder made relative
    to ``script_dir`` (the folder the script is written to); absolute paths, and every path
    when ``script_dir`` is None, stay absolute."""
    if script_dir is None:
        return params
    spec, raw = get_spec(document.nodes[node_id].type_id), document.nodes[node_id].params
    for p in spec.params:
        written = raw.get(p.name)
        if p.file and written and not os.path.isabs(written):
            params[p.name] = ScriptRelativePath(os.path.relpath(params[p.name], script_dir))
    return params


def plan_model(
    document: GraphDocument,
    flavor: Flavor,
    title: str = "model",
    script_dir: str | os.PathLike[str] | None = None,
) -> ModelPlan:
    """Render the document's nodes into constructor and forward lines for ``flavor``.

    ``script_dir``: the folder the script will be written to; a data file the graph names
    relative to its own folder is then read relative to the script (see
    :func:`script_paths`), so the two can move together.

    Raises
    ------
    GraphError
        When the graph has errors, has no Dataset or loss node, or holds a node the exporter
        cannot write out.
    """
    result = validate_for_export(document)
    raise_if_invalid(result)
    drawn, flat = document, flatten(document)
    document = flat.document
    specs = {node_id: get_spec(document.nodes[node_id].type_id) for node_id in result.order}
    roles = {node_id: spec.role for node_id, spec in specs.items()}
    data_nodes, loss_nodes = _check_roles(roles)
    plan = ModelPlan(settings=document.training, title=title, order=list(result.order))
    taken: set[str] = set()
    names: dict[tuple[str, str], str] = {(data_nodes[0], "x"): "x", (data_nodes[0], "y"): "y"}
    if roles[data_nodes[0]] is Role.INPUT:
        plan.y_dependent = set()
    wires = {(e.dst, e.dst_port): (e.src, e.src_port) for e in document.edges}
    folder = None if script_dir is None else os.path.abspath(script_dir)
    for node_id in result.order:
        spec = specs[node_id]
        params = spec.coerce_params(document.resolved_params(node_id))
        if spec.role is Role.DATA:
            params = script_paths(document, node_id, params, folder)
        in_shapes = {
            port.name: result.shapes[wires[(node_id, port.name)]]
            for port in spec.inputs
            if (node_id, port.name) in wires and wires[(node_id, port.name)] in result.shapes
        }
        plan.nodes[node_id] = NodeCode(spec, params, _derived(spec, params, in_shapes))
        values = plan.nodes[node_id].values
        if spec.role is Role.DATA:
            plan.dataset_call = render(spec.engine_code.init, values, node_id)
            plan.data_params = dict(params)
            continue
        if spec.role is Role.INPUT:
            plan.input_shape = parse_dims(str(params["shape"]))
            plan.input_dtype = str(params["dtype"])
            continue
        if spec.role is Role.OUTPUT:
            continue
        _plan_node(plan, node_id, spec, values, flavor, names, wires, taken)
    plan.loss = " + ".join(names[(n, _single_output(specs[n]))] for n in loss_nodes) or "None"
    source = _prediction_source(result.order, specs, wires)
    if source is not None:
        plan.prediction = names[source]
        plan.binary = tuple(result.shapes.get(source, ()))[-1:] == (1,)
    plan.task = _task(document, data_nodes[0], [n for n in result.order if roles[n] is Role.OUTPUT])
    if document is drawn:
        return plan
    from app.graph.export.block_plan import plan_blocks  # it builds on this module

    return plan_blocks(drawn, flat, plan, flavor)


def _check_roles(roles: dict[str, Role]) -> tuple[list[str], list[str]]:
    """The node that feeds the model (a Dataset, or an Input for inference only) and the loss
    nodes; refuses graphs a script cannot run."""
    data_nodes = [n for n, r in roles.items() if r is Role.DATA]
    input_nodes = [n for n, r in roles.items() if r is Role.INPUT]
    loss_nodes = [n for n, r in roles.items() if r is Role.LOSS]
    if not data_nodes and len(input_nodes) == 1:
        return input_nodes, loss_nodes
    if len(data_nodes) != 1 or not loss_nodes:
        raise GraphError(
            "export needs exactly one Dataset node and at least one loss node (or, for an "
            "inference-only script, one Input node)"
        )
    if input_nodes:
        raise GraphError(
            f"Input node '{input_nodes[0]}' cannot be exported beside a Dataset: feed the model "
            "from one of them",
            input_nodes[0],
        )
    return data_nodes, loss_nodes


def validate_for_export(document: GraphDocument) -> ValidationResult:
    """``validate(document)``, less the graph-wide errors only training has (no Dataset, no
    loss) when one Input node feeds the model: its script is inference only."""
    result = validate(document)
    roles = [node.spec.role for node in document.nodes.values()]
    if Role.DATA in roles or roles.count(Role.INPUT) != 1:
        return result
    kept = [d for d in result.diagnostics if d.node_id is not None or d not in result.errors]
    return dataclasses.replace(result, diagnostics=kept)


def _single_output(spec: NodeSpec) -> str:
    """The single output port of a node the exporter writes out."""
    if len(spec.outputs) != 1:
        raise GraphError(f"{spec.title} nodes have {len(spec.outputs)} outputs; cannot export")
    return spec.outputs[0].name


def _template_values(
    spec: NodeSpec, params: Mapping[str, Any], in_shapes: Mapping[str, Any]
) -> dict[str, Any]:
    return {**params, **_derived(spec, params, in_shapes)}


def _derived(
    spec: NodeSpec, params: Mapping[str, Any], in_shapes: Mapping[str, Any]
) -> dict[str, Any]:
    """The values the spec's ``template_values`` hook infers (none without the hook)."""
    return {} if spec.template_values is None else dict(spec.template_values(params, in_shapes))


def render(template: str, values: Mapping[str, Any], node_id: str) -> str:
    """Fill a code template; a missing placeholder names the node."""
    try:
        return template.format(**values)
    except (KeyError, IndexError) as error:
        raise GraphError(
            f"node '{node_id}': its code template needs {error} (is every input wired?)", node_id
        ) from None


def _plan_node(
    plan: ModelPlan,
    node_id: str,
    spec: NodeSpec,
    values: dict[str, Any],
    flavor: Flavor,
    names: dict[tuple[str, str], str],
    wires: dict[tuple[str, str], tuple[str, str]],
    taken: set[str],
) -> None:
    """Add one node's constructor (when it has one) and forward line to the plan."""
    code: CodeTemplate = spec.engine_code if flavor == "engine" else spec.torch_code
    if not code.call:
        raise GraphError(f"{spec.title} nodes cannot be exported yet", node_id)
    name = identifier(node_id, taken)
    values = {**values, "name": name}
    for port in spec.inputs:
        source = wires.get((node_id, port.name))
        if source is not None:
            values[port.name] = names[source]
        elif port.optional:
            values[port.name] = "None"  # an unwired optional input (attention's kv)
    if code.init:
        plan.attributes.append((name, render(code.init, values, node_id)))
        plan.modules[name] = node_id
    support = render(code.support, values, node_id)
    if support and support not in plan.support:
        plan.support.append(support)
    output = _single_output(spec)
    names[(node_id, output)] = name
    sources = [wires[(node_id, p.name)] for p in spec.inputs if (node_id, p.name) in wires]
    needs_y = any(names[source] in plan.y_dependent for source in sources)
    if needs_y:
        plan.y_dependent.add(name)
    statement = Statement(name, render(code.call, values, node_id), node_id, needs_y)
    plan.statements.append(statement)


def _prediction_source(
    order: list[str],
    specs: dict[str, NodeSpec],
    wires: dict[tuple[str, str], tuple[str, str]],
) -> tuple[str, str] | None:
    """The output metrics read: the Output node's input, else the first loss's first input."""
    candidates = [n for n in order if specs[n].role is Role.OUTPUT]
    candidates += [n for n in order if specs[n].role is Role.LOSS]
    for node_id in candidates:
        for port in specs[node_id].inputs:
            if (node_id, port.name) in wires:
                return wires[(node_id, port.name)]
    return None


def _task(document: GraphDocument, data_node: str, outputs: list[str]) -> str:
    """What the prediction is scored as: the Output node's ``task``, else the dataset's (an
    Input node's model is taken as a regression)."""
    for node_id in outputs:
        task = document.nodes[node_id].params.get("task", "auto")
        if task != "auto":
            return str(task)
    spec = get_spec(document.nodes[data_node].type_id)
    if spec.role is Role.INPUT:
        return "regression"
    dataset = spec.load(document.resolved_params(data_node)) if spec.load else None
    return str(dataset.task) if dataset is not None else "regression"


__all__ = [
    "ExportedScript",
    "ModelPlan",
    "NodeCode",
    "Statement",
    "identifier",
    "plan_model",
    "settings_constants",
    "validate_for_export",
]
