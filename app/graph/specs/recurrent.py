"""Recurrent nodes: RNN and LSTM over N×T×F sequences, returning every hidden state N×T×H."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs.base import (
    Category,
    CodeTemplate,
    InferFn,
    NodeSpec,
    ParamSpec,
    ParamType,
    PortSpec,
    Role,
    Shape,
    Shapes,
)
from app.graph.specs.common import call_module, engine, features, in_features
from app.graph.specs.common import format_shape as fmt
from app.graph.specs.registry import register

HIDDEN = ParamSpec(
    "hidden", ParamType.INT, 32, minimum=1, maximum=10_000, help="size of the hidden state"
)


def _sequence_infer(title: str) -> InferFn:
    def infer(params: Mapping[str, Any], s: Shapes) -> dict[str, Shape]:
        x = s["x"]
        if len(x) != 3:
            fix = (
                "add an Embedding before it for token ids, or a Reshape to -1,1 for one value "
                "per step"
                if len(x) == 2
                else "add a Reshape to T,F"
            )
            raise ShapeError(f"{title} expects N×T×F sequences, got {fmt(x)}; {fix}", port="x")
        return {"y": (*x[:2], params["hidden"])}

    return infer


def recurrent(
    type_id: str,
    title: str,
    help: str,
    gates: int,
    engine_init: str,
    torch_init: str,
    torch_support: str = "",
    **kw: Any,
) -> NodeSpec:
    """Register a sequence layer with ``gates`` weight blocks (1 for RNN, 4 for LSTM)."""
    kw.setdefault("template_values", in_features)

    def count(p: Mapping[str, Any], s: Shapes) -> int:
        f, h = features(s["x"]), int(p["hidden"])
        return gates * (f * h + h * h + h)

    return register(
        NodeSpec(
            type_id,
            title,
            Category.RECURRENT,
            help,
            Role.LAYER,
            infer=_sequence_infer(title),
            inputs=(PortSpec("x", help="a batch of sequences N×T×F"),),
            outputs=(PortSpec("y", help="the hidden state at every step, N×T×H"),),
            forward=call_module(),
            engine_code=CodeTemplate(engine_init, "self.{name}({x})"),
            torch_code=CodeTemplate(torch_init, "self.{name}({x})[0]", torch_support),
            summarize=lambda p: f"{p['hidden']} hidden",
            count=count,
            example={"x": (None, 5, 4)},
            **kw,
        )
    )


# nn.RNN offers tanh and relu only: a sigmoid RNN is exported as this loop, laid out like the
# engine's RNN (one input projection with the bias, one hidden projection without).
SIGMOID_RNN = '''class SigmoidRNN(nn.Module):
    """An Elman RNN with a sigmoid non-linearity (nn.RNN offers tanh and relu only)."""

    def __init__(self, n_inputs, n_hidden):
        super().__init__()
        self.input = nn.Linear(n_inputs, n_hidden)
        self.hidden = nn.Linear(n_hidden, n_hidden, bias=False)

    def forward(self, x):
        """Return every hidden state N×T×H (from h_0 = 0) and the last one, as nn.RNN."""
        h = x.new_zeros(len(x), self.hidden.in_features)
        states = []
        for step in self.input(x).unbind(dim=1):
            h = torch.sigmoid(step + self.hidden(h))
            states.append(h)
        return torch.stack(states, dim=1), h.unsqueeze(0)'''


def _rnn_template_values(params: Mapping[str, Any], s: Shapes) -> dict[str, str]:
    """``in_features``, and the PyTorch module: ``nn.RNN``, or the loop for a sigmoid."""
    f, h, act = features(s["x"]), params["hidden"], params["activation"]
    if act == "sigmoid":
        return {"in_features": str(f), "torch_rnn": f"SigmoidRNN({f}, {h})", "support": SIGMOID_RNN}
    module = f"nn.RNN({f}, {h}, nonlinearity='{act}', batch_first=True)"
    return {"in_features": str(f), "torch_rnn": module, "support": ""}


recurrent(
    "rnn",
    "RNN",
    "A simple recurrent layer: h_t = act(x_t·W + h_{t-1}·U + b).",
    1,
    "RNN({in_features}, {hidden}, activation='{activation}')",
    "{torch_rnn}",
    torch_support="{support}",
    template_values=_rnn_template_values,
    params=(
        HIDDEN,
        ParamSpec(
            "activation",
            ParamType.CHOICE,
            "tanh",
            choices=("tanh", "relu", "sigmoid"),
            help="non-linearity of the hidden state",
        ),
    ),
    build=lambda p, s: engine().RNN(features(s["x"]), p["hidden"], activation=p["activation"]),
)
recurrent(
    "lstm",
    "LSTM",
    "A long short-term memory layer (forget, input, output gates and a cell).",
    4,
    "LSTM({in_features}, {hidden})",
    "nn.LSTM({in_features}, {hidden}, batch_first=True)",
    params=(HIDDEN,),
    build=lambda p, s: engine().LSTM(features(s["x"]), p["hidden"]),
)
