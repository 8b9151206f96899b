"""Loss nodes (MSE, cross-entropy, BCE-with-logits) and the Output prediction head."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    ForwardFn,
    InferFn,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    PortSpec,
    Role,
    Shape,
    Shapes,
    TemplateValuesFn,
)
from app.graph.specs.common import engine, samples
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

LOSS_OUT = (PortSpec("loss", PortKind.LOSS, optional=True, help="the batch loss (a scalar)"),)


def _same_size(title: str, first: str) -> InferFn:
    """Infer hook: prediction and target must hold the same values per sample."""

    def infer(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
        pred, target = s[first], s["target"]
        if pred != target and (len(pred) < 1 or samples(pred) != samples(target)):
            raise ShapeError(
                f"{title} compares {first} {fmt(pred)} with target {fmt(target)}; they need the "
                f"same shape: make the layer before it output {fmt(target)}",
                port=first,
            )
        return {"loss": ()}

    return infer


def _reshaped_forward(first: str) -> ForwardFn:
    """Forward hook: bring the target to the prediction's shape, then apply the loss."""

    def forward(
        module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        pred, target = inputs[first], inputs["target"]
        if tuple(target.shape) != tuple(pred.shape):
            target = target.reshape(*pred.shape)
        return {"loss": module(pred, target)}

    return forward


def reshape_to(shape: Shape, method: str = "reshape") -> str:
    """The call giving a batch this shape, batch dimension left to the framework.

    Examples
    --------
    >>> reshape_to((None, 1))
    '.reshape(-1, 1)'
    >>> reshape_to((None,))
    '.reshape(-1)'
    """
    dims = ", ".join(str(-1 if d is None else d) for d in (None, *shape[1:]))
    return f".{method}({dims})"


def _target_like_prediction(first: str, torch_suffix: str = "") -> TemplateValuesFn:
    """``template_values`` hook: the target reshaped to the prediction's shape where it differs
    (as the forward hook does), plus ``torch_suffix`` (e.g. ``.float()``) in PyTorch."""

    def values(params: Mapping[str, Any], s: Shapes) -> dict[str, str]:
        pred, target = s[first], s["target"]
        fix = "" if tuple(target) == tuple(pred) else reshape_to(pred)
        return {"engine_target": fix, "torch_target": fix + torch_suffix, "torch_pred": ""}

    return values


def loss(
    type_id: str, title: str, help: str, first: str, target_kind: PortKind, **kw: Any
) -> NodeSpec:
    """Register a loss with inputs ``first`` (the prediction) and ``target``.

    The code templates read the ``template_values`` placeholders ``engine_target`` (appended to
    the target in the engine script), ``torch_pred`` and ``torch_target`` (to the prediction and
    the target in PyTorch); ``engine_suffix`` (a keyword) is appended to the engine call.
    """
    kw.setdefault("infer", _same_size(title, first))
    kw.setdefault("forward", _reshaped_forward(first))
    kw.setdefault("template_values", _target_like_prediction(first))
    suffix = kw.pop("engine_suffix", "")
    engine_call = f"self.{{name}}({{{first}}}, {{target}}{{engine_target}}){suffix}"
    torch_call = f"self.{{name}}({{{first}}}{{torch_pred}}, {{target}}{{torch_target}})"
    kw["engine_code"] = CodeTemplate(kw.pop("engine_init"), engine_call)
    kw["torch_code"] = CodeTemplate(kw.pop("torch_init"), torch_call)
    return register(
        NodeSpec(
            type_id,
            title,
            Category.LOSSES,
            help,
            Role.LOSS,
            inputs=(
                PortSpec(first, help="the model's prediction"),
                PortSpec("target", target_kind, help="the batch's targets"),
            ),
            outputs=LOSS_OUT,
            **kw,
        )
    )


def _mse_forward(
    module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """The engine's ``'sum'`` gives one sum per output (the book's); the graph minimises their
    total, a scalar like every loss node's (the same gradient: ``backward`` seeds each with 1)."""
    out = _reshaped_forward("pred")(module, params, inputs)
    loss = out["loss"]
    return {"loss": loss.sum() if loss.size > 1 else loss}


def _mse_values(params: Mapping[str, Any], s: Shapes) -> dict[str, str]:
    """The target fix, and ``.sum()`` after a ``'sum'`` loss of several outputs per sample."""
    values = _target_like_prediction("pred")(params, s)
    several = params["reduction"] == "sum" and samples(s["pred"]) > 1
    values["engine_total"] = ".sum()" if several else ""
    return values


loss(
    "mse_loss",
    "MSE loss",
    "Mean (or sum) of squared differences, for regression.",
    "pred",
    PortKind.TENSOR,
    params=(
        ParamSpec(
            "reduction",
            ParamType.CHOICE,
            "mean",
            choices=("mean", "sum"),
            help="average or add the squared errors",
        ),
    ),
    build=lambda p, s: engine().MSELoss(reduction=p["reduction"]),
    forward=_mse_forward,
    template_values=_mse_values,
    engine_suffix="{engine_total}",
    engine_init="MSELoss(reduction='{reduction}')",
    torch_init="nn.MSELoss(reduction='{reduction}')",
    summarize=lambda p: p["reduction"],
)


def _infer_ce(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
    logits, target = s["logits"], s["target"]
    if len(logits) not in (2, 3) or tuple(target) not in (logits[:-1], (*logits[:-1], 1)):
        raise ShapeError(
            f"Cross-entropy loss expects logits N×C with class indices N (or N×T×C with N×T), "
            f"got logits {fmt(logits)} and target {fmt(target)}",
            port="logits",
        )
    return {"loss": ()}


def _ce_template_values(params: Mapping[str, Any], s: Shapes) -> dict[str, str]:
    """The engine flattens targets itself; PyTorch wants N×C logits with N targets."""
    logits, target = s["logits"], s["target"]
    return {
        "engine_target": "",
        "torch_pred": ".flatten(0, -2)" if len(logits) > 2 else "",
        "torch_target": ".flatten()" if len(target) > 1 else "",
    }


loss(
    "cross_entropy_loss",
    "Cross-entropy loss",
    "Softmax cross-entropy between logits and integer class labels, for classification.",
    "logits",
    PortKind.INDICES,
    applies="softmax",
    infer=_infer_ce,
    forward=lambda m, p, i: {"loss": m(i["logits"], i["target"])},
    template_values=_ce_template_values,
    example={"logits": (None, 3), "target": (None,)},
    build=lambda p, s: engine().CrossEntropyLoss(),
    engine_init="CrossEntropyLoss()",
    torch_init="nn.CrossEntropyLoss()",
)
loss(
    "bce_with_logits_loss",
    "BCE-with-logits loss",
    "Binary cross-entropy on sigmoid(logits) against 0/1 targets, for yes/no outputs.",
    "logits",
    PortKind.TENSOR,
    applies="sigmoid",
    build=lambda p, s: engine().BCEWithLogitsLoss(),
    template_values=_target_like_prediction("logits", torch_suffix=".float()"),
    engine_init="BCEWithLogitsLoss()",
    torch_init="nn.BCEWithLogitsLoss()",
)

register(
    NodeSpec(
        "output",
        "Output",
        Category.OUTPUT,
        "The model's prediction: metrics such as accuracy are computed here.",
        Role.OUTPUT,
        infer=lambda p, s: {},
        inputs=(PortSpec("x", help="the prediction (logits, probabilities or values)"),),
        params=(
            ParamSpec(
                "task",
                ParamType.CHOICE,
                "auto",
                choices=("auto", "classification", "regression"),
                help="how to score it; auto follows the dataset",
            ),
        ),
        forward=lambda m, p, i: {},
        summarize=lambda p: "" if p["task"] == "auto" else p["task"],
    )
)
