"""Loss nodes (MSE, cross-entropy, BCE-with-logits) and the Output prediction head."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortKind,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import engine, samples
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

LOSS_OUT = (PortSpec("loss", PortKind.LOSS, optional=True, help="the batch loss (a scalar)"),)


def _same_size(title: str, first: str) -> Any:
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


def _reshaped_forward(first: str) -> Any:
    """Forward hook: bring the target to the prediction's shape, then apply the loss."""

    def forward(
        module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        pred, target = inputs[first], inputs["target"]
        if tuple(target.shape) != tuple(pred.shape):
            target = target.reshape(*pred.shape)
        return {"loss": module(pred, target)}

    return forward


def loss(
    type_id: str, title: str, help: str, first: str, target_kind: PortKind, **kw: Any
) -> NodeSpec:
    """Register a loss with inputs ``first`` (the prediction) and ``target``."""
    kw.setdefault("infer", _same_size(title, first))
    kw.setdefault("forward", _reshaped_forward(first))
    call = f"self.{{name}}({{{first}}}, {{target}})"
    kw["engine_code"] = CodeTemplate(kw.pop("engine_init"), call)
    kw["torch_code"] = CodeTemplate(kw.pop("torch_init"), call)
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


def _forward_ce(
    module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
) -> dict[str, Any]:
    logits, target = inputs["logits"], inputs["target"]
    if target.ndim == logits.ndim:
        target = target.reshape(*target.shape[:-1])
    return {"loss": module(logits, target)}


loss(
    "cross_entropy_loss",
    "Cross-entropy loss",
    "Softmax cross-entropy between logits and integer class labels, for classification.",
    "logits",
    PortKind.INDICES,
    infer=_infer_ce,
    forward=_forward_ce,
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
    build=lambda p, s: engine().BCEWithLogitsLoss(),
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
