"""Build the bundled example graphs through the document API and save them as .nodegrad files.

Run ``python -m tests.examples.build_examples`` from the repository root to (re)write
``examples/*.nodegrad``; the example tests check the committed files match these builders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.graph import io
from app.graph.document import GraphDocument

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

Wire = tuple[str, str, str, str]
COLUMN = 260.0  # node width 160 + 100 for the widest shape label (e.g. N×16×8×8) and its ports


def chain(
    doc: GraphDocument,
    nodes: list[tuple[str, str, dict[str, Any]]],
    wires: list[Wire],
    settings: dict[str, Any],
) -> GraphDocument:
    """Add ``(node id, type id, params)`` left to right, then the wires and settings.

    The loss and the Output head share the last column, the loss below, the head above.
    Columns are ``COLUMN`` apart, so the shape label of every wire fits between the nodes.
    """
    heads = {"output": -90.0, "mse_loss": 90.0, "cross_entropy_loss": 90.0}
    column = 0
    for node_id, type_id, params in nodes:
        if type_id in heads:
            position = ((len(nodes) - 2) * COLUMN, heads[type_id])
        else:
            position, column = (column * COLUMN, 0.0), column + 1
        doc.add_node(type_id, params, position=position, node_id=node_id)
    for src, src_port, dst, dst_port in wires:
        doc.connect(src, src_port, dst, dst_port)
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


def xor() -> GraphDocument:
    """The book's first network: 2 inputs, 4 tanh units, 1 output, squared error."""
    return chain(
        GraphDocument(),
        [
            ("xor", "dataset", {"name": "xor"}),
            ("hidden", "linear", {"units": 4}),
            ("tanh", "tanh", {}),
            ("out", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
            ("output", "output", {"task": "regression"}),
        ],
        [
            ("xor", "x", "hidden", "x"),
            ("hidden", "y", "tanh", "x"),
            ("tanh", "y", "out", "x"),
            ("out", "y", "loss", "pred"),
            ("xor", "y", "loss", "target"),
            ("out", "y", "output", "x"),
        ],
        {"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.9, "batch_size": 4,
         "epochs": 200, "val_split": 0.0},
    )  # fmt: skip


def mlp(
    dataset: dict[str, Any], hidden: list[int], classes: int, settings: dict[str, Any]
) -> GraphDocument:
    """A ReLU multi-layer perceptron classifier with a cross-entropy loss."""
    nodes: list[tuple[str, str, dict[str, Any]]] = [("data", "dataset", dataset)]
    wires: list[Wire] = []
    last = "data", "x"
    for k, units in enumerate(hidden, start=1):
        nodes += [(f"dense{k}", "linear", {"units": units}), (f"relu{k}", "relu", {})]
        wires += [(*last, f"dense{k}", "x"), (f"dense{k}", "y", f"relu{k}", "x")]
        last = f"relu{k}", "y"
    nodes += [("logits", "linear", {"units": classes}), ("loss", "cross_entropy_loss", {})]
    nodes.append(("output", "output", {"task": "classification"}))
    wires += [
        (*last, "logits", "x"),
        ("logits", "y", "loss", "logits"),
        ("data", "y", "loss", "target"),
        ("logits", "y", "output", "x"),
    ]
    return chain(GraphDocument(), nodes, wires, settings)


def spiral() -> GraphDocument:
    """Three interleaved spirals: two hidden layers of 64 ReLU units."""
    return mlp(
        {"name": "spiral"}, [64, 64], 3,
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32, "epochs": 60},
    )  # fmt: skip


def digits_mlp() -> GraphDocument:
    """8×8 handwritten digits, flattened: one hidden layer of 128 ReLU units."""
    return mlp(
        {"name": "digits"}, [128], 10,
        {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 20},
    )  # fmt: skip


def digits_cnn() -> GraphDocument:
    """8×8 digit images: a 3×3 convolution, 2×2 max-pooling and a linear classifier."""
    return chain(
        GraphDocument(),
        [
            ("data", "dataset", {"name": "digits", "images": True}),
            ("conv", "conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
            ("relu", "relu", {}),
            ("pool", "max_pool2d", {"kernel_size": 2, "stride": 2}),
            ("flatten", "flatten", {}),
            ("logits", "linear", {"units": 10}),
            ("loss", "cross_entropy_loss", {}),
            ("output", "output", {"task": "classification"}),
        ],
        [
            ("data", "x", "conv", "x"),
            ("conv", "y", "relu", "x"),
            ("relu", "y", "pool", "x"),
            ("pool", "y", "flatten", "x"),
            ("flatten", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"),
            ("data", "y", "loss", "target"),
            ("logits", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 8},
    )


def char_lstm(vocab_size: int = 49) -> GraphDocument:
    """A character-level language model on the bundled corpus: embedding, LSTM, linear."""
    return chain(
        GraphDocument(),
        [
            ("text", "dataset", {"name": "text", "seq_len": 25}),
            ("embed", "embedding", {"vocab_size": vocab_size, "dim": 16}),
            ("lstm", "lstm", {"hidden": 64}),
            ("logits", "linear", {"units": vocab_size}),
            ("loss", "cross_entropy_loss", {}),
            ("output", "output", {"task": "classification"}),
        ],
        [
            ("text", "x", "embed", "x"),
            ("embed", "y", "lstm", "x"),
            ("lstm", "y", "logits", "x"),
            ("logits", "y", "loss", "logits"),
            ("text", "y", "loss", "target"),
            ("logits", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 15,
         "val_split": 0.1},
    )  # fmt: skip


def sine_lstm() -> GraphDocument:
    """Predict the next value of sine waves: an LSTM read out by a linear layer, squared error."""
    return chain(
        GraphDocument(),
        [
            ("sine", "dataset", {"name": "sine_sequence", "seq_len": 20}),
            ("lstm", "lstm", {"hidden": 32}),
            ("readout", "linear", {"units": 1}),
            ("loss", "mse_loss", {"reduction": "mean"}),
            ("output", "output", {"task": "regression"}),
        ],
        [
            ("sine", "x", "lstm", "x"),
            ("lstm", "y", "readout", "x"),
            ("readout", "y", "loss", "pred"),
            ("sine", "y", "loss", "target"),
            ("readout", "y", "output", "x"),
        ],
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 15},
    )


EXAMPLES: dict[str, Callable[[], GraphDocument]] = {
    "xor": xor,
    "spiral": spiral,
    "digits_mlp": digits_mlp,
    "digits_cnn": digits_cnn,
    "char_lstm": char_lstm,
    "sine_lstm": sine_lstm,
}


def main() -> None:
    """Write every example into ``examples/``."""
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for name, build in EXAMPLES.items():
        io.save(build(), EXAMPLES_DIR / f"{name}.nodegrad")
        print(f"wrote examples/{name}.nodegrad")


if __name__ == "__main__":
    main()
